//! The `safeconv-js` cdylib: nothing of its own. It links the safeconv core, whose `wasm`
//! feature defines the JavaScript API (src/wasm in the repository), into one .wasm module.
pub use safeconv;

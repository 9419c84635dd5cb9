//! `uniffi-bindgen`, built from the exact UniFFI version that `safeconv` uses.
//!
//! ```sh
//! cargo run -p safeconv-uniffi-bindgen -- generate --library target/debug/libsafeconv.so \
//!     --language kotlin --out-dir bindings/kotlin/target/generated
//! ```

fn main() {
    uniffi::uniffi_bindgen_main()
}

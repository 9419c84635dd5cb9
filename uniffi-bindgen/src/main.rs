//! `uniffi-bindgen`, built from the exact UniFFI version that `safeconv-uniffi` uses.
//!
//! ```sh
//! cargo build -p safeconv-uniffi
//! cargo run -p safeconv-uniffi-bindgen -- generate --library target/debug/libsafeconv_uniffi.so \
//!     --language kotlin --out-dir bindings/kotlin/generated/kotlin
//! ```

fn main() {
    uniffi::uniffi_bindgen_main()
}

//! The build of the C library's metadata, from one source of truth, Cargo.toml:
//!
//! * the ABI version (`[package.metadata.safeconv] abi-version`) for `safeconv_abi_version()`
//!   (as `SAFECONV_ABI_VERSION` in the crate's environment) and for the header's
//!   `SAFECONV_ABI_VERSION`; the library version is Cargo's own `CARGO_PKG_VERSION`;
//! * for crates that depend on this one (`links = "safeconv"`): `DEP_SAFECONV_INCLUDE`, the
//!   directory of `safeconv.h`, and `DEP_SAFECONV_ABI_VERSION`;
//! * with the `c-api` feature only, the header generated from `src/ffi` by the pinned cbindgen
//!   into `OUT_DIR` and compared with the checked-in `include/safeconv.h`. A difference fails
//!   the build with the command that refreshes it; only `SAFECONV_UPDATE_HEADER=1` lets the
//!   build write the checked-in file. Nothing here uses the network.
//!
//! Without `c-api` (the default, wasm32, the other bindings' crates) this only reads Cargo.toml.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::exit;

fn main() {
    let root = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=Cargo.toml");
    let abi_version = abi_version(&root.join("Cargo.toml"));
    println!("cargo:rustc-env=SAFECONV_ABI_VERSION={abi_version}");
    println!("cargo:include={}", root.join("include").display());
    println!("cargo:abi-version={abi_version}");
    #[cfg(feature = "c-api")]
    header::check(&root, abi_version);
}

/// `abi-version` of the `[package.metadata.safeconv]` table.
fn abi_version(manifest: &Path) -> u32 {
    let text = fs::read_to_string(manifest)
        .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", manifest.display())));
    let mut in_table = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == "[package.metadata.safeconv]";
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if in_table && key.trim() == "abi-version" {
            let value = value.split('#').next().unwrap_or_default().trim();
            return value.parse().unwrap_or_else(|_| {
                fail(&format!(
                    "abi-version in Cargo.toml must be a whole number, not {value:?}"
                ))
            });
        }
    }
    fail("Cargo.toml has no abi-version in [package.metadata.safeconv]")
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    exit(1)
}

#[cfg(feature = "c-api")]
mod header {
    use super::*;

    /// The command that refreshes the checked-in header, as the failure states it.
    const REFRESH: &str = "SAFECONV_UPDATE_HEADER=1 cargo build -p safeconv --features c-api";

    pub(super) fn check(root: &Path, abi_version: u32) {
        for input in ["src/ffi", "cbindgen.toml", "include/safeconv.h"] {
            println!("cargo:rerun-if-changed={input}");
        }
        println!("cargo:rerun-if-env-changed=SAFECONV_UPDATE_HEADER");

        let mut config = cbindgen::Config::from_file(root.join("cbindgen.toml"))
            .unwrap_or_else(|e| fail(&format!("cbindgen.toml: {e}")));
        config.after_includes = Some(format!(
            "\n/**\n \
             * The version of the C ABI described by this header. It changes only when an existing\n \
             * function, type or number changes meaning (never for additions); compare it with\n \
             * `safeconv_abi_version()` to check that the library loaded is the one compiled against.\n \
             */\n\
             #define SAFECONV_ABI_VERSION {abi_version}"
        ));
        // One source file, as the cbindgen command line reads it: no `cargo metadata`, no
        // network, and nothing outside src/ffi (the rest of the crate is not the C API).
        let bindings = cbindgen::Builder::new()
            .with_config(config)
            .with_src(root.join("src/ffi/mod.rs"))
            .generate()
            .unwrap_or_else(|e| fail(&format!("cbindgen cannot generate the header: {e}")));
        let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
        let generated = out_dir.join("safeconv.h");
        bindings.write_to_file(&generated);

        let fresh = fs::read(&generated).unwrap_or_default();
        let checked_in_path = root.join("include/safeconv.h");
        if fs::read(&checked_in_path).ok().as_deref() == Some(fresh.as_slice()) {
            return;
        }
        if env::var("SAFECONV_UPDATE_HEADER").as_deref() == Ok("1") {
            fs::write(&checked_in_path, &fresh)
                .unwrap_or_else(|e| fail(&format!("cannot write include/safeconv.h: {e}")));
            println!("cargo:warning=include/safeconv.h refreshed from src/ffi; commit it");
            return;
        }
        fail(&format!(
            "include/safeconv.h does not match src/ffi (the header src/ffi makes is {}).\n\
             Refresh it, and commit the result, with:\n\n    {REFRESH}\n\n\
             (scripts/gen-header.sh does the same).",
            generated.display()
        ));
    }
}

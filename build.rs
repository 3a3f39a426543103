//! Gives the shared library its SONAME, so that programs linked against
//! `liblocalkms.so` load `liblocalkms.so.<abi>` and a later incompatible ABI can sit
//! beside it.

/// Raised only when the C ABI changes incompatibly. The one place the number is kept:
/// the Makefile reads it from this line.
const ABI_VERSION: u32 = 0;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" || target_os == "freebsd" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,liblocalkms.so.{ABI_VERSION}");
    }
}

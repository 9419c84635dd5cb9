// swift-tools-version:5.9
//
// Swift bindings of the safeconv Rust SDK. Three modules:
//   safeconvFFI     the C interface of libsafeconv_uniffi (a system library, found with pkg-config)
//   SafeconvUniFFI  the Swift that uniffi-bindgen generates from it (library mode, bindings/uniffi)
//   Safeconv        what apps import: the client, with Task cancellation on every call, the Swift
//                   `SafeconvError`, a stream of status changes, loggers, the version
//
// Produced by the build (scripts/build-swift.sh), not committed: Sources/SafeconvUniFFI/
// SafeconvUniFFI.swift and Sources/safeconvFFI/safeconvFFI.h. On Linux, SwiftPM links a system
// library through its pkg-config file: build-swift.sh installs libsafeconv_uniffi.so and
// safeconv-uniffi.pc (into /usr/local by default, where the linker, the loader and pkg-config
// look); elsewhere, point PKG_CONFIG_PATH at its lib/pkgconfig and the loader at its lib.
import PackageDescription

let package = Package(
    name: "Safeconv",
    platforms: [.macOS(.v12), .iOS(.v15)],
    products: [
        .library(name: "Safeconv", targets: ["Safeconv"]),
    ],
    targets: [
        .systemLibrary(name: "safeconvFFI", path: "Sources/safeconvFFI", pkgConfig: "safeconv-uniffi"),
        .target(name: "SafeconvUniFFI", dependencies: ["safeconvFFI"], path: "Sources/SafeconvUniFFI"),
        .target(name: "Safeconv", dependencies: ["SafeconvUniFFI"], path: "Sources/Safeconv"),
        .testTarget(name: "SafeconvTests", dependencies: ["Safeconv"], path: "Tests/SafeconvTests"),
    ]
)

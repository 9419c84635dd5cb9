// swift-tools-version:5.9
//
// A small agent console in Swift on the safeconv Swift bindings (bindings/swift). It lives in
// examples/swift/AgentConsole because SwiftPM names a local package after its directory, and
// two packages both named "swift" would clash.
// It depends on the package by path and needs no flags: build the package first
// (scripts/build-swift.sh generates its sources and installs libsafeconv_uniffi with its
// pkg-config file; scripts/test-swift.sh does, and runs this console once through a relay in
// front of the emulator), then, like every agent app, through safeconv-relay with the agent's
// key (`safeconv-relay new-agent-key NAME`; docs/relay.md):
//   swift build
//   SAFECONV_RELAY_URL=http://127.0.0.1:PORT SAFECONV_AGENT_KEY=scr_… .build/debug/AgentConsole
import PackageDescription

let package = Package(
    name: "AgentConsole",
    platforms: [.macOS(.v12)],
    dependencies: [
        .package(name: "Safeconv", path: "../../../bindings/swift"),
    ],
    targets: [
        .executableTarget(
            name: "AgentConsole",
            dependencies: [.product(name: "Safeconv", package: "Safeconv")],
            path: "Sources/AgentConsole"
        ),
    ]
)

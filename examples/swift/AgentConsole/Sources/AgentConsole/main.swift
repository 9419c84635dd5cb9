// A call-centre agent's console: type the caller's national identity number, read the binding
// message aloud, watch the status change while the caller confirms in the BankID app, and see
// who was verified. Type `c` and Enter while waiting to cancel.
//
// Configuration from the environment: SAFECONV_EMULATOR_URL (the emulator, with its demo
// credentials), or SAFECONV_BASE_URL, SAFECONV_ACCOUNT_ID, SAFECONV_CLIENT_ID and
// SAFECONV_CLIENT_SECRET for Signicat.

import Foundation
import Safeconv

func env(_ name: String) -> String? {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
    return value
}

func makeConfig() -> ClientConfig {
    let emulator = env("SAFECONV_EMULATOR_URL")
    return ClientConfig(
        accountId: env("SAFECONV_ACCOUNT_ID") ?? (emulator != nil ? "a-spge-emulator" : ""),
        clientId: env("SAFECONV_CLIENT_ID") ?? emulator.map { _ in "safeconv-demo-client" },
        clientSecret: env("SAFECONV_CLIENT_SECRET") ?? emulator.map { _ in "safeconv-demo-secret" },
        baseUrl: env("SAFECONV_BASE_URL") ?? emulator,
        pollInterval: emulator != nil ? 0.25 : nil
    )
}

/// Standard input, read by one thread: `c` cancels the wait in progress, other lines are
/// answers to the prompt.
final class Input: @unchecked Sendable {
    private let lock = NSLock()
    private var waiting: CancelHandle?
    let lines: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation

    init() {
        (lines, continuation) = AsyncStream.makeStream(of: String.self)
        Thread { [self] in
            while let line = readLine() {
                if line.trimmingCharacters(in: .whitespaces).lowercased() == "c", let handle = self.current() {
                    print("  cancelling...")
                    handle.cancel()
                } else {
                    self.continuation.yield(line)
                }
            }
            self.continuation.finish()
        }.start()
    }

    /// The wait that `c` cancels, while there is one.
    func setWaiting(_ handle: CancelHandle?) {
        lock.lock()
        waiting = handle
        lock.unlock()
    }

    private func current() -> CancelHandle? {
        lock.lock()
        defer { lock.unlock() }
        return waiting
    }
}

func describe(_ outcome: Outcome?) -> String {
    switch outcome {
    case .success(let subject)?:
        let nin = subject.nin.map { maskNin(nin: $0.value) } ?? "?"
        return "✔ Verified: \(subject.name ?? "?"), born \(subject.dateOfBirth ?? "?") (NIN \(nin))"
    case .aborted?: return "✘ The caller declined in the BankID app."
    case .cancelled?: return "✘ Cancelled."
    case .expired?: return "✘ The caller did not answer in time."
    case .failed(let status, let error)?: return "✘ Failed: \(error?.code ?? status.signicatName)"
    case nil: return "✘ No outcome."
    }
}

func verify(_ client: SafeconvClient, nin: String, input: Input) async throws {
    let info = try checkNin(nin: nin)
    print("Starting Safe Conversation for \(info.masked) (\(info.kind))")
    let session = try await client.startSafeConversation(nin: nin)
    print("Read this to the caller: «\(session.bindingMessage ?? "")»")
    print("Waiting for the caller to confirm in the BankID app (c + Enter to cancel)...")
    let handle = CancelHandle()
    input.setWaiting(handle)
    defer { input.setWaiting(nil) }
    var last = session
    for try await changed in client.statusChanges(of: session, cancel: handle) {
        print("  status: \(changed.status.signicatName)")
        last = changed
    }
    print(describe(last.outcome))
}

let client: SafeconvClient
do {
    client = try SafeconvClient(config: makeConfig())
} catch {
    print("Cannot start: \(error)")
    exit(1)
}
print("safeconv agent console (safeconv \(safeconvVersion)): Signicat at \(client.baseUrl), account \(client.accountId)")
let input = Input()
var lines = input.lines.makeAsyncIterator()
while true {
    print("\nCaller's national identity number (blank to quit): ", terminator: "")
    fflush(stdout)
    guard let nin = await lines.next()?.trimmingCharacters(in: .whitespaces), !nin.isEmpty else { break }
    do {
        try await verify(client, nin: nin, input: input)
    } catch {
        print("✘ \(error)")
    }
}
print("Bye.")

// A call-centre agent's console: type the caller's national identity number, read the binding
// message aloud, watch the status change while the caller confirms in the BankID app, and see
// who was verified. Type `c` and Enter while waiting to cancel.
//
// An agent's app holds neither the Signicat client secret nor a Signicat token: it talks to
// safeconv-relay with the agent's own credential. Configuration from the environment:
// SAFECONV_RELAY_URL (the relay) and SAFECONV_AGENT_KEY (this agent's relay key; with an
// identity provider, the signed-in agent's JWT instead).

import Foundation
import Safeconv

func env(_ name: String) -> String? {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
    return value
}

struct Misconfigured: Error, CustomStringConvertible {
    let description: String
}

/// The relay, and the agent's own credential as the token the SDK sends it.
func makeClient() throws -> SafeconvClient {
    guard let relay = env("SAFECONV_RELAY_URL") else {
        throw Misconfigured(description: "set SAFECONV_RELAY_URL (safeconv-relay's address)")
    }
    guard let agentKey = env("SAFECONV_AGENT_KEY") else {
        throw Misconfigured(description: "set SAFECONV_AGENT_KEY (the agent's key for the relay)")
    }
    let loopback = relay.hasPrefix("http://127.0.0.1") || relay.hasPrefix("http://localhost")
    return try SafeconvClient.withTokenProvider(
        // The relay knows its Signicat account; the id here is not used.
        config: ClientConfig(accountId: "via-relay", baseUrl: relay, pollInterval: loopback ? 0.25 : nil),
        provider: ClosureTokenProvider { AccessToken(token: agentKey, expiresIn: nil) })
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
    client = try makeClient()
} catch {
    print("Cannot start: \(error)")
    exit(1)
}
print("safeconv agent console (safeconv \(safeconvVersion)): through safeconv-relay at \(client.baseUrl)")
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

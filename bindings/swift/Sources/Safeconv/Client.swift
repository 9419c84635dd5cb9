// The package's API: the client, and the records, enums and protocols of the generated module
// (SafeconvUniFFI, from uniffi-bindgen) under their own names. Each call is a translation: it
// gives the generated call a cancel handle of its own, cancelled with the calling Task, and
// throws the Swift `SafeconvError`. UniFFI 0.32's generated Swift ignores Task cancellation and
// has UpperCamelCase error cases; this layer is what it takes to have neither.

import Foundation
import SafeconvUniFFI

public typealias AccessToken = SafeconvUniFFI.AccessToken
public typealias CancelHandle = SafeconvUniFFI.CancelHandle
public typealias ClientConfig = SafeconvUniFFI.ClientConfig
public typealias InvalidParam = SafeconvUniFFI.InvalidParam
public typealias LogField = SafeconvUniFFI.LogField
public typealias LogLevel = SafeconvUniFFI.LogLevel
public typealias LogRecord = SafeconvUniFFI.LogRecord
public typealias LogSink = SafeconvUniFFI.LogSink
public typealias NinInfo = SafeconvUniFFI.NinInfo
public typealias NinKind = SafeconvUniFFI.NinKind
public typealias NinRules = SafeconvUniFFI.NinRules
public typealias Outcome = SafeconvUniFFI.Outcome
public typealias Session = SafeconvUniFFI.Session
public typealias SessionError = SafeconvUniFFI.SessionError
public typealias SessionStatus = SafeconvUniFFI.SessionStatus
public typealias StartOptions = SafeconvUniFFI.StartOptions
public typealias StatusListener = SafeconvUniFFI.StatusListener
public typealias Subject = SafeconvUniFFI.Subject
public typealias SubjectNin = SafeconvUniFFI.SubjectNin
public typealias TokenProvider = SafeconvUniFFI.TokenProvider
public typealias TransportErrorKind = SafeconvUniFFI.TransportErrorKind
public typealias TrustRoots = SafeconvUniFFI.TrustRoots

/// This package's version: Cargo.toml's, as the Rust library reports it (`safeconv::VERSION`),
/// the same as every other language's package.
public let safeconvVersion: String = SafeconvUniFFI.safeconvVersion()

/// A Signicat client for Safe Conversation. Thread-safe; share one per app.
///
/// Every `async` call stops when the calling Task is cancelled, and when its `cancel` handle
/// (or that handle's parent) is: a start throws `.cancelled` (a session it created is cancelled
/// at Signicat), a wait or a resume cancels the session and returns how it really ended
/// (`.cancelled`, or `.success` if the caller confirmed first), a get or a cancel throws
/// `.cancelled`. Cancelling one call's Task never cancels the `cancel` handle it was given, so
/// one handle can serve many calls.
///
/// ```swift
/// let client = try SafeconvClient(config: ClientConfig(accountId: "a-spge-4711",
///     clientId: "sandbox-my-client", clientSecret: secret))
/// let session = try await client.startSafeConversation(nin: nin)
/// print("Read this to the caller: \(session.bindingMessage ?? "")")
/// if case .success(let subject) = try await client.wait(session: session) { print(subject.name ?? "") }
/// ```
public final class SafeconvClient: Sendable {
    private let client: SafeconvUniFFI.SafeconvClient

    private init(_ client: SafeconvUniFFI.SafeconvClient) {
        self.client = client
    }

    /// A client that authenticates with `config.clientId` and `config.clientSecret`.
    public convenience init(config: ClientConfig) throws {
        self.init(try translatingErrors { try SafeconvUniFFI.SafeconvClient(config: config) })
    }

    /// A client that gets its access tokens from `provider` instead of holding a secret.
    /// `config.clientId` and `config.clientSecret` must be left empty.
    public static func withTokenProvider(config: ClientConfig, provider: TokenProvider) throws -> SafeconvClient {
        let provider = TranslatingTokenProvider(provider)
        return SafeconvClient(try translatingErrors {
            try SafeconvUniFFI.SafeconvClient.withTokenProvider(config: config, provider: provider)
        })
    }

    /// The Signicat account id in use.
    public var accountId: String { client.accountId() }

    /// The API base URL in use.
    public var baseUrl: String { client.baseUrl() }

    /// Starts a Safe Conversation for `nin` (checked, with `options`, before anything is sent):
    /// BankID pushes a request to the caller's phone, and the session's `bindingMessage` is
    /// what the agent reads aloud.
    public func startSafeConversation(nin: String, options: StartOptions? = nil, cancel: CancelHandle? = nil) async throws -> Session {
        try await cancellable(cancel) { try await self.client.startSafeConversation(nin: nin, options: options, cancel: $0) }
    }

    /// Reads a session's current state.
    public func getSession(sessionId: String, cancel: CancelHandle? = nil) async throws -> Session {
        try await cancellable(cancel) { try await self.client.getSession(sessionId: sessionId, cancel: $0) }
    }

    /// Cancels a session, and stops every wait on it. Idempotent: a session that had already
    /// ended comes back in its final state (which may be `.success`).
    public func cancelSession(sessionId: String, cancel: CancelHandle? = nil) async throws -> Session {
        try await cancellable(cancel) { try await self.client.cancelSession(sessionId: sessionId, cancel: $0) }
    }

    /// Polls `session` until it ends and returns how it ended, telling `listener` about each
    /// status change. Gives up after `timeout` (or at the session's `expiresAt`), or when
    /// stopped: the session is then cancelled at Signicat and the real outcome returned.
    public func wait(
        session: Session, listener: StatusListener? = nil, timeout: TimeInterval? = nil, cancel: CancelHandle? = nil
    ) async throws -> Outcome {
        try await cancellable(cancel) {
            try await self.client.wait(session: session, listener: listener, timeout: timeout, cancel: $0)
        }
    }

    /// Picks up a session by id (after a restart, or from another device) and waits for it,
    /// like `wait(session:)`.
    public func resume(
        sessionId: String, listener: StatusListener? = nil, timeout: TimeInterval? = nil, cancel: CancelHandle? = nil
    ) async throws -> Outcome {
        try await cancellable(cancel) {
            try await self.client.resume(sessionId: sessionId, listener: listener, timeout: timeout, cancel: $0)
        }
    }

    /// Lets the cancels that given-up starts and waits left running finish, at most `timeout`
    /// seconds; true if none is left. Call it before a program exits right after giving one up.
    public func waitForCleanup(timeout: TimeInterval) async -> Bool {
        await client.waitForCleanup(timeout: timeout)
    }
}

/// Runs one generated call with a cancel handle of its own: a child of `cancel` (which still
/// stops it), cancelled when the calling Task is (at once, if it already was), so that giving
/// this call up stops nothing else.
private func cancellable<T>(_ cancel: CancelHandle?, _ call: (CancelHandle) async throws -> T) async throws -> T {
    let own = cancel?.child() ?? CancelHandle()
    return try await translatingErrors {
        try await withTaskCancellationHandler {
            try await call(own)
        } onCancel: {
            own.cancel()
        }
    }
}

/// Hands the core what a token provider throws as the generated error, so that an
/// `.authentication` or `.api` thrown by the app arrives as such (anything else becomes
/// `.authentication` with the error `token_provider_failed`).
private final class TranslatingTokenProvider: SafeconvUniFFI.TokenProvider {
    private let provider: TokenProvider

    init(_ provider: TokenProvider) {
        self.provider = provider
    }

    func accessToken() async throws -> AccessToken {
        do {
            return try await provider.accessToken()
        } catch let error as SafeconvError {
            throw error.uniffi
        }
    }
}

/// Checks a Norwegian national identity number without sending anything, with `rules` (the
/// strict default when `nil`): its kind and masked form, or `.invalidNin` saying why not.
public func checkNin(nin: String, rules: NinRules? = nil) throws -> NinInfo {
    try translatingErrors { try SafeconvUniFFI.checkNin(nin: nin, rules: rules) }
}

/// Masks a NIN-like string for display or logs, keeping at most the six date digits
/// (`170290*****`).
public func maskNin(nin: String) -> String {
    SafeconvUniFFI.maskNin(nin: nin)
}

/// Sends the core's log records at `level` and above to `sink` (`nil`: to nobody), replacing
/// the sink set before. One sink per process; see also `useDefaultLogging(level:)`.
public func setLogSink(sink: LogSink?, level: LogLevel) throws {
    try translatingErrors { try SafeconvUniFFI.setLogSink(sink: sink, level: level) }
}

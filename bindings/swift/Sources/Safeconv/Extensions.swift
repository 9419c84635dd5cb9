// Idiomatic Swift on top of the generated bindings (Safeconv.swift, produced by the build).
//
// The generated async methods do not stop the Rust work when the calling Task is cancelled;
// `startSafeConversation(for:)`, `outcome(of:)` and `statusChanges(of:)` wire Task cancellation
// to a `CancelHandle`, so that cancelling the Task (or dropping the stream) cancels the session
// at Signicat.

import Foundation

/// A `StatusListener` from a closure. The closure runs on a Rust worker thread, in order.
public final class ClosureStatusListener: StatusListener, @unchecked Sendable {
    private let onStatus: @Sendable (Session) -> Void

    public init(_ onStatus: @escaping @Sendable (Session) -> Void) {
        self.onStatus = onStatus
    }

    public func onStatus(session: Session) {
        onStatus(session)
    }
}

/// A `TokenProvider` from a closure. It runs on a worker thread and may block (for instance on
/// a call to your backend); throw `SafeconvError.Authentication` when no token can be had.
public final class ClosureTokenProvider: TokenProvider, @unchecked Sendable {
    private let fetch: @Sendable () throws -> AccessToken

    public init(_ fetch: @escaping @Sendable () throws -> AccessToken) {
        self.fetch = fetch
    }

    public func accessToken() throws -> AccessToken {
        try fetch()
    }
}

extension SafeconvClient {
    /// Starts a Safe Conversation for `nin`, like `startSafeConversation(nin:options:cancel:)`,
    /// and cancelling the calling Task stops it: before the request went out nothing is sent;
    /// after, it throws `SafeconvError.Cancelled` at once and the session it creates is
    /// cancelled at Signicat, so no BankID request is left on the caller's phone.
    public func startSafeConversation(for nin: String, options: StartOptions? = nil) async throws -> Session {
        let handle = CancelHandle()
        return try await withTaskCancellationHandler {
            try await self.startSafeConversation(nin: nin, options: options, cancel: handle)
        } onCancel: {
            handle.cancel()
        }
    }

    /// Waits for `session` to end and returns how it ended, like `wait(session:...)`, and
    /// cancelling the calling Task cancels the session at Signicat: the result is then what
    /// really happened (`.cancelled`, or `.success` if the caller confirmed first).
    public func outcome(
        of session: Session,
        listener: StatusListener? = nil,
        timeout: TimeInterval? = nil
    ) async throws -> Outcome {
        let handle = CancelHandle()
        return try await withTaskCancellationHandler {
            try await self.wait(session: session, listener: listener, timeout: timeout, cancel: handle)
        } onCancel: {
            handle.cancel()
        }
    }

    /// The status changes of `session` as an `AsyncThrowingStream`: each time the status
    /// changes, the final one included, the stream yields the session, then finishes (or throws
    /// the `SafeconvError` that stopped the wait). A session that has already ended yields
    /// nothing. Leaving the loop early, or cancelling the Task, cancels the session at Signicat.
    /// `cancel` stops the wait from elsewhere (e.g. a button); leaving the loop early cancels
    /// that handle too. For status values: `for try await s in client.statusChanges(of: session)`
    /// and read `s.status`.
    public func statusChanges(
        of session: Session,
        timeout: TimeInterval? = nil,
        cancel: CancelHandle? = nil
    ) -> AsyncThrowingStream<Session, Error> {
        AsyncThrowingStream(bufferingPolicy: .unbounded) { continuation in
            let handle = cancel ?? CancelHandle()
            let listener = ClosureStatusListener { continuation.yield($0) }
            let task = Task {
                do {
                    _ = try await self.wait(session: session, listener: listener, timeout: timeout, cancel: handle)
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { termination in
                if case .cancelled = termination {
                    handle.cancel()
                }
                _ = task
            }
        }
    }
}

extension SessionStatus {
    /// Whether the session has ended. Unknown statuses count as still running.
    public var isFinal: Bool { statusIsFinal(status: self) }

    /// Signicat's spelling, e.g. `WAITING_FOR_USER`.
    public var signicatName: String { statusName(status: self) }
}

extension Session {
    /// How the session ended, or `nil` while it is still running.
    public var outcome: Outcome? { sessionOutcome(session: self) }
}

// The generated error has the core's wording in `description` but does not declare the
// conformance; with it, `"\(error)"` and `print(error)` read like the Rust and Kotlin messages.
extension SafeconvError: CustomStringConvertible {}

// Idiomatic additions: closures for the callback protocols, a stream of status changes, and
// small conveniences over the generated types.

import Foundation
import SafeconvUniFFI

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

/// A `TokenProvider` from an async closure, e.g. a `URLSession` call to your backend. It runs in
/// a Task of its own, one call at a time, and that Task is cancelled when the call that needed
/// the token is given up. Throw `SafeconvError.authentication` when no token can be had.
public final class ClosureTokenProvider: TokenProvider, @unchecked Sendable {
    private let fetch: @Sendable () async throws -> AccessToken

    public init(_ fetch: @escaping @Sendable () async throws -> AccessToken) {
        self.fetch = fetch
    }

    public func accessToken() async throws -> AccessToken {
        try await fetch()
    }
}

extension SafeconvClient {
    /// The status changes of `session` as an `AsyncThrowingStream`: each time the status
    /// changes, the final one included, the stream yields the session, then finishes (or throws
    /// the `SafeconvError` that stopped the wait). A session that has already ended yields
    /// nothing. Leaving the loop early, or cancelling the Task, cancels the session at Signicat;
    /// `cancel` stops the wait from elsewhere (e.g. a button), and is itself never cancelled by
    /// the stream, so other calls using it go on.
    ///
    /// ```swift
    /// for try await changed in client.statusChanges(of: session) { show(changed.status) }
    /// ```
    public func statusChanges(
        of session: Session,
        timeout: TimeInterval? = nil,
        cancel: CancelHandle? = nil
    ) -> AsyncThrowingStream<Session, Error> {
        AsyncThrowingStream(bufferingPolicy: .unbounded) { continuation in
            let listener = ClosureStatusListener { continuation.yield($0) }
            // `wait` gives itself a child of `cancel`: cancelling this task cancels that child.
            let waiting = Task {
                do {
                    _ = try await self.wait(session: session, listener: listener, timeout: timeout, cancel: cancel)
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { termination in
                if case .cancelled = termination {
                    waiting.cancel()
                }
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

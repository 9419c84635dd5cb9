// The package's one error type, Swift-shaped: lowerCamelCase cases (UniFFI 0.32 names the cases of
// a generated Swift error UpperCamelCase, with no option to change it: mozilla/uniffi-rs#2262)
// and the core's wording as `description` and `errorDescription`. A plain copy of the generated
// error, both ways, and nothing else.

import Foundation
import SafeconvUniFFI

/// Everything that can keep the SDK from learning a session's outcome. A session that ends
/// badly (declined, expired, failed) is not an error but an `Outcome`. Never contains a NIN,
/// secret or token.
///
/// `"\(error)"`, `description` and `localizedDescription` are the core's wording, the same in
/// every language, e.g. `Signicat API error (HTTP 404) session_not_found: … (traceId 083a…)`.
///
/// ```swift
/// do {
///     _ = try await client.getSession(sessionId: id)
/// } catch SafeconvError.api(let httpStatus, _, _, _, let traceId, _, _) where httpStatus == 404 {
///     print("no such session (quote \(traceId ?? "-") to Signicat)")
/// }
/// ```
public enum SafeconvError: Error, Equatable, Hashable, Sendable {
    /// An argument or configuration value was refused before anything was sent (`field`, e.g.
    /// `base_url` or `credentials`).
    case invalidInput(field: String, reason: String)
    /// The national identity number was refused before anything was sent: `reasonCode` is
    /// `length`, `non-digit`, `date`, `check-digits` or `synthetic`.
    case invalidNin(reasonCode: String, reason: String)
    /// The token endpoint (or the token provider) refused: `error` is OAuth's (`invalid_client`,
    /// …) or the provider's (`token_provider_failed` when it threw something else).
    case authentication(error: String, description: String?, httpStatus: Int?)
    /// Signicat answered with an error. Quote `traceId` to Signicat support.
    case api(
        httpStatus: Int, code: String?, title: String?, detail: String?, traceId: String?,
        invalidParams: [InvalidParam], retryAfter: TimeInterval?)
    /// No usable answer arrived: timeout, refused or dropped connection.
    case transport(kind: TransportErrorKind, reason: String)
    /// The server answered something the SDK cannot read.
    case `protocol`(reason: String)
    /// The call was stopped (its `CancelHandle`, or its Task) before it had a result. A start
    /// stopped after its request went out has its session cancelled at Signicat.
    case cancelled(reason: String)
}

extension SafeconvError: CustomStringConvertible, LocalizedError {
    /// The core's wording (the Rust library formats it).
    public var description: String { uniffi.description }

    public var errorDescription: String? { description }
}

extension SafeconvError {
    init(_ error: SafeconvUniFFI.SafeconvError) {
        switch error {
        case let .InvalidInput(field, reason):
            self = .invalidInput(field: field, reason: reason)
        case let .InvalidNin(reasonCode, reason):
            self = .invalidNin(reasonCode: reasonCode, reason: reason)
        case let .Authentication(error, description, httpStatus):
            self = .authentication(error: error, description: description, httpStatus: httpStatus.map(Int.init))
        case let .Api(httpStatus, code, title, detail, traceId, invalidParams, retryAfter):
            self = .api(
                httpStatus: Int(httpStatus), code: code, title: title, detail: detail, traceId: traceId,
                invalidParams: invalidParams, retryAfter: retryAfter)
        case let .Transport(kind, reason):
            self = .transport(kind: kind, reason: reason)
        case let .Protocol(reason):
            self = .protocol(reason: reason)
        case let .Cancelled(reason):
            self = .cancelled(reason: reason)
        }
    }

    /// The generated error, for Rust (what a token provider throws; the wording). A status
    /// beyond `Int32` is clamped, and then refused by the core as no HTTP status.
    var uniffi: SafeconvUniFFI.SafeconvError {
        switch self {
        case let .invalidInput(field, reason):
            return .InvalidInput(field: field, reason: reason)
        case let .invalidNin(reasonCode, reason):
            return .InvalidNin(reasonCode: reasonCode, reason: reason)
        case let .authentication(error, description, httpStatus):
            return .Authentication(error: error, description: description, httpStatus: httpStatus.map { Int32(clamping: $0) })
        case let .api(httpStatus, code, title, detail, traceId, invalidParams, retryAfter):
            return .Api(
                httpStatus: Int32(clamping: httpStatus), code: code, title: title, detail: detail, traceId: traceId,
                invalidParams: invalidParams, retryAfter: retryAfter)
        case let .transport(kind, reason):
            return .Transport(kind: kind, reason: reason)
        case let .protocol(reason):
            return .Protocol(reason: reason)
        case let .cancelled(reason):
            return .Cancelled(reason: reason)
        }
    }
}

/// Runs a generated call, throwing its errors as `SafeconvError`.
func translatingErrors<T>(_ call: () throws -> T) throws -> T {
    do {
        return try call()
    } catch let error as SafeconvUniFFI.SafeconvError {
        throw SafeconvError(error)
    }
}

/// Runs a generated async call, throwing its errors as `SafeconvError`.
func translatingErrors<T>(_ call: () async throws -> T) async throws -> T {
    do {
        return try await call()
    } catch let error as SafeconvUniFFI.SafeconvError {
        throw SafeconvError(error)
    }
}

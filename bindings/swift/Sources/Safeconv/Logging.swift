// The SDK's log records (retries, token renewals, sessions created and cancelled) for Swift
// loggers: the generated `LogSink` protocol is the logger protocol; these are its adapters.

import Foundation
// The default level below names a case of the generated module's `LogLevel`.
import SafeconvUniFFI
#if canImport(os)
import os
#endif

extension LogRecord {
    /// The message and the fields, `message name=value …`, as a text log shows it.
    public var line: String {
        message + fields.map { " \($0.name)=\($0.value)" }.joined()
    }
}

/// A `LogSink` from a closure. It runs on the SDK's worker threads, possibly several at once.
public final class ClosureLogSink: LogSink, @unchecked Sendable {
    private let log: @Sendable (LogRecord) -> Void

    public init(_ log: @escaping @Sendable (LogRecord) -> Void) {
        self.log = log
    }

    public func log(record: LogRecord) {
        log(record)
    }
}

/// Writes each record to standard error, one line: `safeconv info safeconv::client: session
/// created session_id=…`. The default on Linux.
public final class StandardErrorLogSink: LogSink, @unchecked Sendable {
    public init() {}

    public func log(record: LogRecord) {
        FileHandle.standardError.write(Data("safeconv \(record.level) \(record.target): \(record.line)\n".utf8))
    }
}

#if canImport(os)
/// Sends each record to the unified logging system: subsystem `no.safeconv`, the record's source
/// (`safeconv::client`) as the category; `error` → `.error`, `warn` → `.default`, `info` →
/// `.info`, `debug` and `trace` → `.debug`. The default on Apple platforms.
@available(macOS 11.0, iOS 14.0, *)
public final class OSLogSink: LogSink, @unchecked Sendable {
    public init() {}

    public func log(record: LogRecord) {
        let logger = Logger(subsystem: "no.safeconv", category: record.target)
        let type: OSLogType
        switch record.level {
        case .error: type = .error
        case .warn: type = .default
        case .info: type = .info
        case .debug, .trace: type = .debug
        }
        // NINs are masked by the SDK; the rest is operational detail, fine to show.
        logger.log(level: type, "\(record.line, privacy: .public)")
    }
}
#endif

/// Sends the SDK's records at `level` and above to the platform's logger: `os.Logger` on Apple
/// platforms, standard error elsewhere. `setLogSink(sink:level:)` takes any other `LogSink`;
/// `setLogSink(sink: nil, level: .error)` stops the records.
public func useDefaultLogging(level: LogLevel = .info) throws {
    #if canImport(os)
    if #available(macOS 11.0, iOS 14.0, *) {
        try setLogSink(sink: OSLogSink(), level: level)
        return
    }
    #endif
    try setLogSink(sink: StandardErrorLogSink(), level: level)
}

import Foundation
import XCTest
@testable import Safeconv

/// Collects what a wait reports, in order (called on a Rust worker thread).
final class Recorder: StatusListener, @unchecked Sendable {
    private let lock = NSLock()
    private var received: [Session] = []

    func onStatus(session: Session) {
        lock.lock()
        received.append(session)
        lock.unlock()
    }

    var sessions: [Session] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    var statuses: [String] { sessions.map { $0.status.signicatName } }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() {
        lock.lock()
        count += 1
        lock.unlock()
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}

/// Collects the SDK's log records (on its worker threads).
final class LogBook: @unchecked Sendable {
    private let lock = NSLock()
    private var received: [LogRecord] = []

    lazy var sink = ClosureLogSink { [unowned self] record in
        self.lock.lock()
        self.received.append(record)
        self.lock.unlock()
    }

    var records: [LogRecord] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    func clear() {
        lock.lock()
        received.removeAll()
        lock.unlock()
    }
}

/// Runs `body` and returns the `SafeconvError` it throws (failing the test if it does not).
func expectError<T>(_ body: () async throws -> T, file: StaticString = #filePath, line: UInt = #line) async -> SafeconvError? {
    do {
        _ = try await body()
        XCTFail("expected a SafeconvError", file: file, line: line)
    } catch let error as SafeconvError {
        return error
    } catch {
        XCTFail("expected a SafeconvError, got \(error)", file: file, line: line)
    }
    return nil
}

final class SafeconvTests: XCTestCase {
    var emulator: Emulator!
    var client: SafeconvClient!

    override func setUpWithError() throws {
        guard let emulator = Emulator.fromEnvironment() else {
            throw XCTSkip("SAFECONV_EMULATOR_URL is not set: run scripts/test-swift.sh (it starts the emulator)")
        }
        self.emulator = emulator
        try emulator.clearFaults()
        client = try SafeconvClient(config: emulator.config())
    }

    override func tearDownWithError() throws {
        try setLogSink(sink: nil, level: .error)
    }

    /// The id of the session the core cancels because its start was given up.
    private func abandonedSessionId(_ book: LogBook) async throws -> String {
        for _ in 0..<250 {
            if let record = book.records.first(where: { $0.message == "cancelling an abandoned session" }),
               let id = record.fields.first(where: { $0.name == "session_id" })?.value {
                return id
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        XCTFail("the core never cancelled the abandoned session")
        return ""
    }

    private func assertNoNin(_ values: Any..., file: StaticString = #filePath, line: UInt = #line) {
        for value in values {
            XCTAssertFalse("\(value)".contains(Emulator.ninApprove), "a NIN leaked into a printed value", file: file, line: line)
        }
    }

    private func waitForStatus(_ id: String, _ wanted: SessionStatus) async throws -> SessionStatus {
        var status = SessionStatus.created
        for _ in 0..<100 {
            status = try await client.getSession(sessionId: id).status
            if status == wanted { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        return status
    }

    // MARK: happy path

    func testHappyPathWithBindingMessage() async throws {
        try emulator.user(Emulator.ninApprove, "approve", afterMs: 300)
        let session = try await client.startSafeConversation(nin: Emulator.ninApprove)
        XCTAssertFalse(session.id.isEmpty)
        XCTAssertFalse((session.bindingMessage ?? "").trimmingCharacters(in: .whitespaces).isEmpty)
        XCTAssertFalse(session.status.isFinal)
        XCTAssertGreaterThan(try XCTUnwrap(session.expiresAt), Date())
        XCTAssertNil(session.outcome)

        let outcome = try await client.wait(session: session)
        guard case .success(let subject) = outcome else { return XCTFail("not verified: \(outcome)") }
        XCTAssertFalse((subject.name ?? "").isEmpty)
        XCTAssertEqual(subject.nin?.value, Emulator.ninApprove)
        assertNoNin(outcome, subject, subject.nin as Any, session)
        XCTAssertTrue("\(subject.nin!)".contains("010180*****"))
    }

    func testStartOptionsAreSent() async throws {
        try emulator.user(Emulator.ninApprove, "approve", afterMs: 200)
        let options = StartOptions(attributes: ["name", "nin"], language: "nb", externalReference: "call-4711")
        let session = try await client.startSafeConversation(nin: Emulator.ninApprove, options: options)
        XCTAssertEqual(session.externalReference, "call-4711")
        guard case .success = try await client.wait(session: session) else { return XCTFail("not verified") }
    }

    // MARK: every final status

    func testDeclinedEndsAsAborted() async throws {
        try emulator.user(Emulator.ninDecline, "decline", afterMs: 200)
        let outcome = try await client.wait(session: try await client.startSafeConversation(nin: Emulator.ninDecline))
        XCTAssertEqual(outcome, .aborted)
    }

    func testDeclinedAsAbortedEndsAsAborted() async throws {
        // Signicat's .NET SDK spells the decline ABORTED: the same outcome.
        try emulator.user(Emulator.ninDecline, "decline-aborted", afterMs: 200)
        let outcome = try await client.wait(session: try await client.startSafeConversation(nin: Emulator.ninDecline))
        XCTAssertEqual(outcome, .aborted)
    }

    func testFailureKeepsItsErrorCode() async throws {
        try emulator.user(Emulator.ninFail, "fail", afterMs: 200, code: "authentication_failed")
        let outcome = try await client.wait(session: try await client.startSafeConversation(nin: Emulator.ninFail))
        guard case .failed(let status, let error) = outcome else { return XCTFail("not failed: \(outcome)") }
        XCTAssertEqual(status, .error)
        XCTAssertEqual(error?.code, "authentication_failed")
    }

    func testNoBankIdAppFailsWithItsCode() async throws {
        try emulator.user(Emulator.ninNoApp, "no-app")
        let outcome = try await client.wait(session: try await client.startSafeConversation(nin: Emulator.ninNoApp))
        guard case .failed(_, let error) = outcome else { return XCTFail("not failed: \(outcome)") }
        XCTAssertEqual(error?.code, "no_bankid_app")
    }

    func testUnansweredSessionExpires() async throws {
        try emulator.user(Emulator.ninSilent, "never-answer")
        try emulator.minSessionLifetime(1)
        let session = try await client.startSafeConversation(nin: Emulator.ninSilent, options: StartOptions(sessionLifetime: 1))
        let outcome = try await client.wait(session: session)
        XCTAssertEqual(outcome, .expired)
    }

    func testCancelSessionEndsAsCancelled() async throws {
        try emulator.user(Emulator.ninSilent, "never-answer")
        let session = try await client.startSafeConversation(nin: Emulator.ninSilent)
        let cancelled = try await client.cancelSession(sessionId: session.id)
        XCTAssertEqual(cancelled.status, .cancelled)
        let again = try await client.cancelSession(sessionId: session.id)
        XCTAssertEqual(again.status, .cancelled)
        let outcome = try await client.wait(session: cancelled)
        XCTAssertEqual(outcome, .cancelled)
        XCTAssertEqual(cancelled.outcome, .cancelled)
    }

    func testGetSessionReadsTheCurrentStatus() async throws {
        try emulator.user(Emulator.ninApprove, "approve", afterMs: 100)
        let session = try await client.startSafeConversation(nin: Emulator.ninApprove)
        try await Task.sleep(nanoseconds: 400_000_000)
        let current = try await client.getSession(sessionId: session.id)
        XCTAssertEqual(current.status, .success)
        guard case .success = current.outcome else { return XCTFail("no success outcome") }
    }

    // MARK: cancel during wait

    func testCancelHandleStopsTheWaitAndCancelsTheSession() async throws {
        try emulator.user(Emulator.ninSilent, "never-answer")
        let session = try await client.startSafeConversation(nin: Emulator.ninSilent)
        let handle = CancelHandle()
        let recorder = Recorder()
        let client = self.client!
        let waiting = Task { try await client.wait(session: session, listener: recorder, cancel: handle) }
        try await Task.sleep(nanoseconds: 400_000_000)
        handle.cancel()
        let outcome = try await waiting.value
        XCTAssertTrue(handle.isCancelled())
        XCTAssertEqual(outcome, .cancelled)
        XCTAssertEqual(recorder.statuses.last, "CANCELLED")
    }

    func testCancellingTheTaskCancelsTheSession() async throws {
        try emulator.user(Emulator.ninSilent, "never-answer")
        let session = try await client.startSafeConversation(nin: Emulator.ninSilent)
        let client = self.client!
        let waiting = Task { try await client.wait(session: session) }
        try await Task.sleep(nanoseconds: 400_000_000)
        waiting.cancel()
        let outcome = try await waiting.value
        XCTAssertEqual(outcome, .cancelled)
        let status = try await waitForStatus(session.id, .cancelled)
        XCTAssertEqual(status, .cancelled)
    }

    // MARK: an abandoned start

    func testCancellingTheTaskDuringTheCreateCancelsTheSession() async throws {
        let book = LogBook()
        try setLogSink(sink: book.sink, level: .info)
        try emulator.user(Emulator.ninSilent, "never-answer")
        // The emulator makes the session at once and holds its answer back.
        try emulator.fault("create-session", "slow", delayMs: 1500)
        let before = try emulator.createRequests()
        let client = self.client!
        let starting = Task { try await client.startSafeConversation(nin: Emulator.ninSilent) }
        while try emulator.createRequests() == before {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        let cancelledAt = Date()
        starting.cancel()
        let error = await expectError { try await starting.value }
        guard case .cancelled = error else { return XCTFail("not Cancelled: \(String(describing: error))") }
        XCTAssertLessThan(Date().timeIntervalSince(cancelledAt), 1.0)
        let id = try await abandonedSessionId(book)
        let cleanedUp = await client.waitForCleanup(timeout: 5)
        XCTAssertTrue(cleanedUp)
        XCTAssertEqual(try emulator.sessionStatus(id), "CANCELLED")
    }

    func testACancelledTaskSendsNoStart() async throws {
        let before = try emulator.createRequests()
        let client = self.client!
        let starting = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.startSafeConversation(nin: Emulator.ninSilent)
        }
        let error = await expectError { try await starting.value }
        guard case .cancelled = error else { return XCTFail("not Cancelled: \(String(describing: error))") }
        XCTAssertEqual(try emulator.createRequests(), before)
    }

    func testTimeoutCancelsAndReports() async throws {
        try emulator.user(Emulator.ninSilent, "never-answer")
        let session = try await client.startSafeConversation(nin: Emulator.ninSilent)
        let outcome = try await client.wait(session: session, timeout: 0.3)
        XCTAssertEqual(outcome, .cancelled)
    }

    // MARK: Task cancellation stops every call, and only that call

    /// Runs `call` in a Task, cancels the Task after `after` seconds and returns how the call
    /// ended and how long after the cancel.
    private func cancelledTask<T: Sendable>(
        after: TimeInterval = 0.3, _ call: @escaping @Sendable () async throws -> T
    ) async throws -> (Result<T, Error>, TimeInterval) {
        let task = Task { try await call() }
        try await Task.sleep(nanoseconds: UInt64(after * 1e9))
        let cancelledAt = Date()
        task.cancel()
        let result = await task.result
        return (result, Date().timeIntervalSince(cancelledAt))
    }

    private func assertCancelledError<T>(_ result: Result<T, Error>, file: StaticString = #filePath, line: UInt = #line) {
        switch result {
        case .failure(SafeconvError.cancelled):
            break
        default:
            XCTFail("expected SafeconvError.cancelled, got \(result)", file: file, line: line)
        }
    }

    func testACancelledTaskStopsAGet() async throws {
        try emulator.user(Emulator.ninSilent, "never-answer")
        let session = try await client.startSafeConversation(nin: Emulator.ninSilent)
        try emulator.fault("get-session", "slow", delayMs: 3000)
        let client = self.client!
        let (result, took) = try await cancelledTask { try await client.getSession(sessionId: session.id) }
        assertCancelledError(result)
        XCTAssertLessThan(took, 1.0)
        try emulator.clearFaults()
        _ = try await client.cancelSession(sessionId: session.id)
    }

    func testACancelledTaskStopsACancel() async throws {
        try emulator.user(Emulator.ninSilent, "never-answer")
        let session = try await client.startSafeConversation(nin: Emulator.ninSilent)
        try emulator.fault("cancel-session", "slow", delayMs: 3000)
        let client = self.client!
        let (result, took) = try await cancelledTask { try await client.cancelSession(sessionId: session.id) }
        assertCancelledError(result)
        XCTAssertLessThan(took, 1.0)
        try emulator.clearFaults()
        _ = try await client.cancelSession(sessionId: session.id)
    }

    func testACancelledTaskStopsAResume() async throws {
        try emulator.user(Emulator.ninSilent, "never-answer")
        let session = try await client.startSafeConversation(nin: Emulator.ninSilent)
        let client = self.client!
        let (result, _) = try await cancelledTask(after: 0.4) { try await client.resume(sessionId: session.id) }
        XCTAssertEqual(try result.get(), .cancelled)
        let status = try await waitForStatus(session.id, .cancelled)
        XCTAssertEqual(status, .cancelled)
    }

    func testACancelledTaskLeavesTheHandleItWasGiven() async throws {
        try emulator.user(Emulator.ninSilent, "never-answer")
        let kept = try await client.startSafeConversation(nin: Emulator.ninSilent)
        let given = try await client.startSafeConversation(nin: Emulator.ninSilent)
        let hangUp = CancelHandle()
        let client = self.client!
        let other = Task { try await client.wait(session: kept, cancel: hangUp) }
        let (result, _) = try await cancelledTask(after: 0.4) { try await client.wait(session: given, cancel: hangUp) }
        XCTAssertEqual(try result.get(), .cancelled)
        XCTAssertFalse(hangUp.isCancelled())
        try await Task.sleep(nanoseconds: 300_000_000)
        let keptNow = try await client.getSession(sessionId: kept.id)
        XCTAssertEqual(keptNow.status, .waitingForUser)
        // The handle itself still stops the other wait.
        hangUp.cancel()
        let outcome = try await other.value
        XCTAssertEqual(outcome, .cancelled)
    }

    func testLeavingTheStreamEarlyCancelsOnlyItsWait() async throws {
        try emulator.user(Emulator.ninSilent, "never-answer")
        let streamed = try await client.startSafeConversation(nin: Emulator.ninSilent)
        let kept = try await client.startSafeConversation(nin: Emulator.ninSilent)
        let hangUp = CancelHandle()
        let client = self.client!
        let other = Task { try await client.wait(session: kept, cancel: hangUp) }
        for try await changed in client.statusChanges(of: streamed, cancel: hangUp) where changed.status == .waitingForUser {
            break
        }
        let status = try await waitForStatus(streamed.id, .cancelled)
        XCTAssertEqual(status, .cancelled)
        XCTAssertFalse(hangUp.isCancelled(), "the stream cancelled the caller's handle")
        let keptNow = try await client.getSession(sessionId: kept.id)
        XCTAssertEqual(keptNow.status, .waitingForUser)
        hangUp.cancel()
        let outcome = try await other.value
        XCTAssertEqual(outcome, .cancelled)
    }

    // MARK: Swift idioms

    func testErrorsAreLowerCamelCaseInTheCoresWording() async throws {
        XCTAssertThrowsError(try SafeconvClient(config: ClientConfig(accountId: "a-1", clientId: "id", clientSecret: "s", baseUrl: "http://example.com"))) { error in
            guard case SafeconvError.invalidInput(let field, _) = error else { return XCTFail("not invalidInput: \(error)") }
            XCTAssertEqual(field, "base_url")
            let wording = "invalid base_url: must use https (plain http is allowed only for loopback addresses)"
            XCTAssertEqual("\(error)", wording)
            XCTAssertEqual(error.localizedDescription, wording)
            XCTAssertEqual((error as? LocalizedError)?.errorDescription, wording)
        }
        do {
            _ = try await client.getSession(sessionId: "no-such-session")
            XCTFail("no error")
        } catch SafeconvError.api(let httpStatus, _, _, _, let traceId, _, _) where httpStatus == 404 {
            XCTAssertFalse((traceId ?? "").isEmpty)
        }
    }

    func testTheVersionIsCargos() {
        XCTAssertEqual(safeconvVersion, ProcessInfo.processInfo.environment["SAFECONV_VERSION"] ?? safeconvVersion)
        XCTAssertEqual(safeconvVersion.split(separator: ".").count, 3)
    }

    // MARK: listener events in order

    func testListenerEventsArriveInOrder() async throws {
        try emulator.user(Emulator.ninApprove, "approve", afterMs: 800)
        let session = try await client.startSafeConversation(nin: Emulator.ninApprove)
        let recorder = Recorder()
        guard case .success = try await client.wait(session: session, listener: recorder) else { return XCTFail("not verified") }
        XCTAssertEqual(recorder.statuses, ["WAITING_FOR_USER", "SUCCESS"])
        XCTAssertTrue(recorder.sessions.allSatisfy { $0.id == session.id })
        XCTAssertNotNil(recorder.sessions.last?.subject)
    }

    func testStatusChangesAsAsyncStream() async throws {
        try emulator.user(Emulator.ninApprove, "approve", afterMs: 800)
        let session = try await client.startSafeConversation(nin: Emulator.ninApprove)
        var statuses: [SessionStatus] = []
        for try await changed in client.statusChanges(of: session) {
            statuses.append(changed.status)
        }
        XCTAssertEqual(statuses, [.waitingForUser, .success])
    }

    func testLeavingTheStreamEarlyCancelsTheSession() async throws {
        try emulator.user(Emulator.ninSilent, "never-answer")
        let session = try await client.startSafeConversation(nin: Emulator.ninSilent)
        for try await changed in client.statusChanges(of: session) where changed.status == .waitingForUser {
            break
        }
        let status = try await waitForStatus(session.id, .cancelled)
        XCTAssertEqual(status, .cancelled)
    }

    func testResumeById() async throws {
        try emulator.user(Emulator.ninApprove, "approve", afterMs: 500)
        let session = try await client.startSafeConversation(nin: Emulator.ninApprove)
        // Another client, as after a restart of the app.
        let other = try SafeconvClient(config: emulator.config())
        let recorder = Recorder()
        guard case .success = try await other.resume(sessionId: session.id, listener: recorder) else { return XCTFail("not verified") }
        XCTAssertEqual(recorder.statuses.last, "SUCCESS")
    }

    // MARK: error mapping

    func testInvalidNin() async throws {
        let error = await expectError { try await self.client.startSafeConversation(nin: "17029012345") }
        guard case .invalidNin(let code, _) = error else { return XCTFail("not InvalidNin: \(String(describing: error))") }
        XCTAssertEqual(code, "check-digits")
        XCTAssertFalse("\(error!)".contains("17029012345"))
        XCTAssertThrowsError(try checkNin(nin: "12345")) { error in
            guard case SafeconvError.invalidNin(let code, _) = error else { return XCTFail("not InvalidNin") }
            XCTAssertEqual(code, "length")
        }
    }

    func testCheckNin() throws {
        let info = try checkNin(nin: Emulator.ninApprove)
        XCTAssertEqual(info.kind, .birthNumber)
        XCTAssertEqual(info.masked, "010180*****")
        XCTAssertTrue(info.checkDigitsValid)
        XCTAssertFalse(try checkNin(nin: "17029012345", rules: NinRules(allowInvalidCheckDigits: true)).checkDigitsValid)
        XCTAssertEqual(maskNin(nin: Emulator.ninApprove), "010180*****")
    }

    func testBadCredentials() async throws {
        let bad = try SafeconvClient(config: emulator.config(clientSecret: "wrong-secret"))
        let error = await expectError { try await bad.startSafeConversation(nin: Emulator.ninApprove) }
        guard case .authentication(let code, _, let httpStatus) = error else { return XCTFail("not Authentication: \(String(describing: error))") }
        XCTAssertEqual(code, "invalid_client")
        XCTAssertEqual(httpStatus, 401)
        XCTAssertFalse("\(error!)".contains("wrong-secret"))
    }

    func testApiErrorKeepsStatusCodeAndTraceId() async throws {
        let error = await expectError { try await self.client.getSession(sessionId: "no-such-session") }
        guard case .api(let httpStatus, _, _, _, let traceId, _, _) = error else { return XCTFail("not Api: \(String(describing: error))") }
        XCTAssertEqual(httpStatus, 404)
        XCTAssertFalse((traceId ?? "").isEmpty)
        XCTAssertTrue("\(error!)".contains("HTTP 404"), "\(error!)")
    }

    func testServerErrorOnCreate() async throws {
        try emulator.fault("create-session", "internal-error")
        let error = await expectError { try await self.client.startSafeConversation(nin: Emulator.ninApprove) }
        guard case .api(let httpStatus, _, _, _, _, _, _) = error else { return XCTFail("not Api: \(String(describing: error))") }
        XCTAssertEqual(httpStatus, 500)
    }

    func testInvalidConfiguration() {
        XCTAssertThrowsError(try SafeconvClient(config: ClientConfig(accountId: "a-1", clientId: "id", clientSecret: "s", baseUrl: "http://example.com"))) { error in
            guard case SafeconvError.invalidInput(let field, _) = error else { return XCTFail("not InvalidInput") }
            XCTAssertEqual(field, "base_url")
        }
        XCTAssertThrowsError(try SafeconvClient(config: ClientConfig(accountId: "a-1"))) { error in
            guard case SafeconvError.invalidInput(let field, _) = error else { return XCTFail("not InvalidInput") }
            XCTAssertEqual(field, "credentials")
        }
    }

    func testConfigAndTokensNeverPrintSecrets() {
        XCTAssertFalse("\(emulator.config())".contains(Emulator.clientSecret))
        XCTAssertFalse(String(reflecting: emulator.config()).contains(Emulator.clientSecret))
        XCTAssertFalse("\(AccessToken(token: "eyJ-very-secret", expiresIn: 60))".contains("eyJ-very-secret"))
    }

    // MARK: token provider

    func testTokenProviderSuppliesTokens() async throws {
        try emulator.user(Emulator.ninApprove, "approve", afterMs: 200)
        let emulator = self.emulator!
        let calls = Counter()
        let provider = ClosureTokenProvider {
            calls.increment()
            try await Task.sleep(nanoseconds: 50_000_000)   // async, as a URLSession call is
            return try emulator.token()
        }
        let withProvider = try SafeconvClient.withTokenProvider(config: emulator.config(clientId: nil, clientSecret: nil), provider: provider)
        let session = try await withProvider.startSafeConversation(nin: Emulator.ninApprove)
        guard case .success = try await withProvider.wait(session: session) else { return XCTFail("not verified") }
        XCTAssertEqual(calls.value, 1)
    }

    func testTokenProviderErrors() async throws {
        let noCredentials = emulator.config(clientId: nil, clientSecret: nil)
        let refusing = try SafeconvClient.withTokenProvider(config: noCredentials, provider: ClosureTokenProvider {
            throw SafeconvError.authentication(error: "backend_refused", description: "agent is not signed in", httpStatus: nil)
        })
        let refused = await expectError { try await refusing.startSafeConversation(nin: Emulator.ninApprove) }
        guard case .authentication(let code, _, _) = refused else { return XCTFail("not Authentication") }
        XCTAssertEqual(code, "backend_refused")

        struct Unreachable: Error {}
        let broken = try SafeconvClient.withTokenProvider(config: noCredentials, provider: ClosureTokenProvider { throw Unreachable() })
        let failed = await expectError { try await broken.startSafeConversation(nin: Emulator.ninApprove) }
        guard case .authentication(let brokenCode, _, _) = failed else { return XCTFail("not Authentication") }
        XCTAssertEqual(brokenCode, "token_provider_failed")

        XCTAssertThrowsError(try SafeconvClient.withTokenProvider(config: emulator.config(), provider: ClosureTokenProvider { throw Unreachable() }))
    }

    // MARK: logs

    func testLogRecordsArriveByLevelWithoutNins() async throws {
        try emulator.user(Emulator.ninApprove, "approve", afterMs: 200)
        let book = LogBook()
        try setLogSink(sink: book.sink, level: .info)
        guard case .success = try await client.wait(session: try await client.startSafeConversation(nin: Emulator.ninApprove)) else { return XCTFail("not verified") }
        let info = book.records
        let created = try XCTUnwrap(info.first { $0.message == "session created" })
        XCTAssertEqual(created.level, .info)
        XCTAssertEqual(created.target, "safeconv::client")
        XCTAssertTrue(created.line.hasPrefix("session created"))
        XCTAssertTrue(created.fields.contains { $0.name == "session_id" && !$0.value.isEmpty })
        XCTAssertFalse(info.contains { $0.level == .debug || $0.level == .trace })

        book.clear()
        try setLogSink(sink: book.sink, level: .debug)
        guard case .success = try await client.wait(session: try await client.startSafeConversation(nin: Emulator.ninApprove)) else { return XCTFail("not verified") }
        let start = try XCTUnwrap(book.records.first { $0.message == "starting a Safe Conversation" })
        XCTAssertEqual(start.level, .debug)
        XCTAssertEqual(start.line, "starting a Safe Conversation nin=010180*****")
        for record in book.records {
            XCTAssertFalse(record.line.contains(Emulator.ninApprove), "a NIN leaked into \(record.line)")
        }
    }

    func testDefaultLoggingInstalls() async throws {
        try useDefaultLogging(level: .warn)
        try emulator.user(Emulator.ninApprove, "approve", afterMs: 200)
        guard case .success = try await client.wait(session: try await client.startSafeConversation(nin: Emulator.ninApprove)) else { return XCTFail("not verified") }
    }

    // MARK: many at once

    func testTwentyConcurrentSessions() async throws {
        try emulator.user(Emulator.ninApprove, "approve", afterMs: 300)
        let client = self.client!
        let started = Date()
        let results = try await withThrowingTaskGroup(of: (String, Outcome, [String]).self) { group in
            for _ in 0..<20 {
                group.addTask {
                    let session = try await client.startSafeConversation(nin: Emulator.ninApprove)
                    let recorder = Recorder()
                    let outcome = try await client.wait(session: session, listener: recorder)
                    return (session.id, outcome, recorder.statuses)
                }
            }
            var all: [(String, Outcome, [String])] = []
            for try await result in group { all.append(result) }
            return all
        }
        XCTAssertEqual(Set(results.map { $0.0 }).count, 20)
        XCTAssertTrue(results.allSatisfy { if case .success = $0.1 { return true } else { return false } })
        XCTAssertTrue(results.allSatisfy { $0.2.last == "SUCCESS" })
        XCTAssertLessThan(Date().timeIntervalSince(started), 20)
    }
}

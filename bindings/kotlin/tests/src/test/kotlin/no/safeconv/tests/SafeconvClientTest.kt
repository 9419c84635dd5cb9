package no.safeconv.tests

import no.safeconv.*

import ch.qos.logback.classic.Level
import ch.qos.logback.classic.Logger
import ch.qos.logback.classic.spi.ILoggingEvent
import ch.qos.logback.core.read.ListAppender
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import no.safeconv.tests.Emulator.Companion.NIN_APPROVE
import no.safeconv.tests.Emulator.Companion.NIN_DECLINE
import no.safeconv.tests.Emulator.Companion.NIN_FAIL
import no.safeconv.tests.Emulator.Companion.NIN_NO_APP
import no.safeconv.tests.Emulator.Companion.NIN_SILENT
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.slf4j.LoggerFactory
import java.time.Duration
import java.time.Instant
import java.util.Collections
import java.util.concurrent.atomic.AtomicInteger

class SafeconvClientTest {
    private val emulator = Emulator.fromEnvironment()
    private lateinit var client: SafeconvClient

    @BeforeEach
    fun setUp() {
        emulator.clearFaults()
        client = SafeconvClient(emulator.config())
    }

    @AfterEach
    fun stopLogs() {
        setLogSink(null, LogLevel.ERROR)
    }

    /** Collects the SDK's log records (on its worker threads). */
    private class LogBook {
        val records: MutableList<LogRecord> = Collections.synchronizedList(mutableListOf())
        val sink = LogSink { records += it }
        fun snapshot(): List<LogRecord> = synchronized(records) { records.toList() }
    }

    /** The id of the session the core cancels because its start was given up. */
    private suspend fun abandonedSessionId(book: LogBook): String {
        for (i in 0 until 250) {
            book.snapshot().firstOrNull { it.message == "cancelling an abandoned session" }
                ?.let { record -> return record.fields.first { it.name == "session_id" }.value }
            delay(20)
        }
        error("the core never cancelled the abandoned session")
    }

    /** Collects what a wait reports, in order. */
    private class Recorder : StatusListener {
        val sessions: MutableList<Session> = Collections.synchronizedList(mutableListOf())
        val statuses get() = sessions.map { it.status.signicatName }
        override fun onStatus(session: Session) {
            sessions += session
        }
    }

    /** The session's status once it is [wanted], or after 5 s (the core cancels in the background). */
    private suspend fun statusOnceSettled(id: String, wanted: SessionStatus): SessionStatus {
        var status = client.getSession(id).status
        for (i in 0 until 100) {
            if (status == wanted) break
            delay(50)
            status = client.getSession(id).status
        }
        return status
    }

    private fun assertNoNin(vararg printed: Any?) {
        for (value in printed) assertFalse(value.toString().contains(NIN_APPROVE), "a NIN leaked into toString()")
    }

    // --- happy path -----------------------------------------------------------------------------

    @Test
    fun `happy path with binding message`() = runBlocking {
        emulator.user(NIN_APPROVE, "approve", afterMs = 300)
        val session = client.startSafeConversation(NIN_APPROVE)
        assertTrue(session.id.isNotBlank())
        assertFalse(session.bindingMessage.isNullOrBlank())
        assertFalse(session.status.isFinal)
        assertTrue(session.expiresAt!!.isAfter(Instant.now()))
        assertNull(session.outcome)

        val outcome = client.awaitOutcome(session)
        val success = assertInstanceOf(Outcome.Success::class.java, outcome)
        assertFalse(success.subject.name.isNullOrBlank())
        assertEquals(NIN_APPROVE, success.subject.nin?.value)
        assertNoNin(outcome, success.subject, success.subject.nin, session)
        assertTrue(success.subject.nin.toString().contains("010180*****"))
    }

    @Test
    fun `start options are sent`() = runBlocking {
        emulator.user(NIN_APPROVE, "approve", afterMs = 200)
        val options = StartOptions(language = "nb", externalReference = "call-4711", attributes = listOf("name", "nin"))
        val session = client.startSafeConversation(NIN_APPROVE, options)
        assertEquals("call-4711", session.externalReference)
        assertInstanceOf(Outcome.Success::class.java, client.awaitOutcome(session))
        Unit
    }

    // --- every final status ---------------------------------------------------------------------

    @Test
    fun `declined ends as Aborted`() = runBlocking {
        emulator.user(NIN_DECLINE, "decline", afterMs = 200)
        assertEquals(Outcome.Aborted, client.awaitOutcome(client.startSafeConversation(NIN_DECLINE)))
    }

    @Test
    fun `declined as ABORTED ends as Aborted`() = runBlocking {
        // Signicat's .NET SDK spells the decline ABORTED: the same outcome.
        emulator.user(NIN_DECLINE, "decline-aborted", afterMs = 200)
        assertEquals(Outcome.Aborted, client.awaitOutcome(client.startSafeConversation(NIN_DECLINE)))
    }

    @Test
    fun `failure keeps its error code`() = runBlocking {
        emulator.user(NIN_FAIL, "fail", afterMs = 200, code = "authentication_failed")
        val outcome = client.awaitOutcome(client.startSafeConversation(NIN_FAIL))
        val failed = assertInstanceOf(Outcome.Failed::class.java, outcome)
        assertEquals(SessionStatus.Error, failed.status)
        assertEquals("authentication_failed", failed.error?.code)
    }

    @Test
    fun `no BankID app fails with its code`() = runBlocking {
        emulator.user(NIN_NO_APP, "no-app")
        val failed = assertInstanceOf(Outcome.Failed::class.java, client.awaitOutcome(client.startSafeConversation(NIN_NO_APP)))
        assertEquals("no_bankid_app", failed.error?.code)
    }

    @Test
    fun `unanswered session expires`() = runBlocking {
        emulator.user(NIN_SILENT, "never-answer")
        emulator.minSessionLifetime(1)
        val session = client.startSafeConversation(NIN_SILENT, StartOptions(sessionLifetime = 1u))
        assertEquals(Outcome.Expired, client.awaitOutcome(session))
    }

    @Test
    fun `cancel session ends as Cancelled`() = runBlocking {
        emulator.user(NIN_SILENT, "never-answer")
        val session = client.startSafeConversation(NIN_SILENT)
        val cancelled = client.cancelSession(session.id)
        assertEquals(SessionStatus.Cancelled, cancelled.status)
        assertEquals(SessionStatus.Cancelled, client.cancelSession(session.id).status)
        assertEquals(Outcome.Cancelled, client.awaitOutcome(cancelled))
        assertEquals(Outcome.Cancelled, cancelled.outcome)
    }

    @Test
    fun `get session reads the current status`() = runBlocking {
        emulator.user(NIN_APPROVE, "approve", afterMs = 100)
        val session = client.startSafeConversation(NIN_APPROVE)
        delay(400)
        val current = client.getSession(session.id)
        assertEquals(SessionStatus.Success, current.status)
        assertInstanceOf(Outcome.Success::class.java, current.outcome)
        Unit
    }

    // --- cancel during wait ---------------------------------------------------------------------

    @Test
    fun `cancel handle stops the wait and cancels the session`() = runBlocking {
        emulator.user(NIN_SILENT, "never-answer")
        val session = client.startSafeConversation(NIN_SILENT)
        val handle = CancelHandle()
        val recorder = Recorder()
        val waiting = async { client.awaitOutcome(session, recorder, null, handle) }
        delay(400)
        assertFalse(waiting.isCompleted)
        handle.cancel()
        val outcome = withTimeout(5_000) { waiting.await() }
        assertTrue(handle.isCancelled())
        assertEquals(Outcome.Cancelled, outcome)
        assertEquals("CANCELLED", recorder.statuses.last())
    }

    @Test
    fun `cancelling the coroutine cancels the session`() = runBlocking {
        emulator.user(NIN_SILENT, "never-answer")
        val session = client.startSafeConversation(NIN_SILENT)
        val job = launch { client.awaitOutcome(session) }
        delay(400)
        job.cancel()
        job.join()
        // The core cancels the abandoned session at Signicat in the background.
        assertEquals(SessionStatus.Cancelled, statusOnceSettled(session.id, SessionStatus.Cancelled))
    }

    // --- an abandoned start ---------------------------------------------------------------------

    @Test
    fun `cancelling the coroutine during the create cancels the session`() = runBlocking {
        val book = LogBook()
        setLogSink(book.sink, LogLevel.INFO)
        emulator.user(NIN_SILENT, "never-answer")
        // The emulator makes the session at once and holds its answer back.
        emulator.fault("create-session", "slow", delayMs = 1500)
        val before = emulator.createRequests()
        val starting = launch(Dispatchers.Default) { client.startSafeConversation(NIN_SILENT) }
        while (emulator.createRequests() == before) delay(10)
        starting.cancel()
        starting.join()
        assertTrue(starting.isCancelled)
        val id = abandonedSessionId(book)
        assertTrue(client.waitForCleanup(Duration.ofSeconds(5)))
        assertEquals("CANCELLED", emulator.sessionStatus(id))
    }

    @Test
    fun `cancel handle stops a start`() = runBlocking {
        emulator.user(NIN_SILENT, "never-answer")
        emulator.fault("create-session", "slow", delayMs = 1500)
        val handle = CancelHandle()
        val starting = async(Dispatchers.Default) {
            assertThrows<SafeconvException.Cancelled> { runBlocking { client.startSafeConversation(NIN_SILENT, cancel = handle) } }
        }
        delay(300)
        val cancelledAt = System.nanoTime()
        handle.cancel()
        starting.await()
        assertTrue(Duration.ofNanos(System.nanoTime() - cancelledAt) < Duration.ofSeconds(1))
        assertTrue(client.waitForCleanup(Duration.ofSeconds(5)))

        // Cancelled beforehand: nothing is sent.
        val before = emulator.createRequests()
        assertThrows<SafeconvException.Cancelled> { runBlocking { client.startSafeConversation(NIN_SILENT, cancel = handle) } }
        assertEquals(before, emulator.createRequests())
    }

    @Test
    fun `timeout cancels and reports`() = runBlocking {
        emulator.user(NIN_SILENT, "never-answer")
        val session = client.startSafeConversation(NIN_SILENT)
        assertEquals(Outcome.Cancelled, client.awaitOutcome(session, timeout = Duration.ofMillis(300)))
    }

    // --- listener events in order ---------------------------------------------------------------

    @Test
    fun `listener events arrive in order`() = runBlocking {
        emulator.user(NIN_APPROVE, "approve", afterMs = 800)
        val session = client.startSafeConversation(NIN_APPROVE)
        val recorder = Recorder()
        assertInstanceOf(Outcome.Success::class.java, client.awaitOutcome(session, recorder))
        assertEquals(listOf("WAITING_FOR_USER", "SUCCESS"), recorder.statuses)
        assertTrue(recorder.sessions.all { it.id == session.id })
        assertNotNull(recorder.sessions.last().subject)
        Unit
    }

    @Test
    fun `status changes as a Flow`() = runBlocking {
        emulator.user(NIN_APPROVE, "approve", afterMs = 800)
        val session = client.startSafeConversation(NIN_APPROVE)
        val statuses = client.statusChanges(session).map { it.status }.toList()
        assertEquals(listOf(SessionStatus.WaitingForUser, SessionStatus.Success), statuses)
    }

    @Test
    fun `leaving the Flow early cancels the session`() = runBlocking {
        emulator.user(NIN_SILENT, "never-answer")
        val session = client.startSafeConversation(NIN_SILENT)
        val first = client.statusChanges(session).first { it.status == SessionStatus.WaitingForUser }
        assertEquals(session.id, first.id)
        assertEquals(SessionStatus.Cancelled, statusOnceSettled(session.id, SessionStatus.Cancelled))
    }

    @Test
    fun `resume by id`() = runBlocking {
        emulator.user(NIN_APPROVE, "approve", afterMs = 500)
        val session = client.startSafeConversation(NIN_APPROVE)
        // Another client, as after a restart of the app.
        val other = SafeconvClient(emulator.config())
        val statuses = mutableListOf<SessionStatus>()
        val outcome = other.resume(session.id, StatusListener { statuses += it.status })
        assertInstanceOf(Outcome.Success::class.java, outcome)
        assertEquals(SessionStatus.Success, statuses.last())
    }

    // --- error mapping --------------------------------------------------------------------------

    @Test
    fun `invalid NIN`() {
        val error = assertThrows<SafeconvException.InvalidNin> {
            runBlocking { client.startSafeConversation("17029012345") }
        }
        assertEquals("check-digits", error.reasonCode)
        assertFalse(error.toString().contains("17029012345"))
        assertEquals("length", assertThrows<SafeconvException.InvalidNin> { checkNin("12345") }.reasonCode)
    }

    @Test
    fun `check NIN`() {
        val info = checkNin(NIN_APPROVE)
        assertEquals(NinKind.BIRTH_NUMBER, info.kind)
        assertEquals("010180*****", info.masked)
        assertTrue(info.checkDigitsValid)
        assertFalse(checkNin("17029012345", NinRules(allowInvalidCheckDigits = true)).checkDigitsValid)
        assertEquals("010180*****", maskNin(NIN_APPROVE))
    }

    @Test
    fun `bad credentials`() {
        val bad = SafeconvClient(emulator.config(clientSecret = "wrong-secret"))
        val error = assertThrows<SafeconvException.Authentication> {
            runBlocking { bad.startSafeConversation(NIN_APPROVE) }
        }
        assertEquals("invalid_client", error.error)
        assertEquals(401, error.httpStatus)
        assertFalse(error.toString().contains("wrong-secret"))
    }

    @Test
    fun `API error keeps status code and trace id`() {
        val error = assertThrows<SafeconvException.Api> {
            runBlocking { client.getSession("no-such-session") }
        }
        assertTrue(error.httpStatus == 404) // an Int: compared with a literal
        assertFalse(error.traceId.isNullOrBlank())
        assertTrue(error.toString().contains("HTTP 404"))
        assertEquals(error.toString(), error.message)
    }

    @Test
    fun `server error on create`() {
        emulator.fault("create-session", "internal-error")
        val error = assertThrows<SafeconvException.Api> {
            runBlocking { client.startSafeConversation(NIN_APPROVE) }
        }
        assertEquals(500, error.httpStatus)
    }

    @Test
    fun `invalid configuration`() {
        val error = assertThrows<SafeconvException.InvalidInput> {
            SafeconvClient(ClientConfig(accountId = "a-1", clientId = "id", clientSecret = "s", baseUrl = "http://example.com"))
        }
        assertEquals("base_url", error.field)
        assertEquals("credentials", assertThrows<SafeconvException.InvalidInput> { SafeconvClient(ClientConfig(accountId = "a-1")) }.field)
    }

    @Test
    fun `config and tokens never print secrets`() {
        assertFalse(emulator.config().toString().contains(Emulator.CLIENT_SECRET))
        assertFalse(AccessToken("eyJ-very-secret", Duration.ofSeconds(60)).toString().contains("eyJ-very-secret"))
    }

    // --- token provider -------------------------------------------------------------------------

    @Test
    fun `token provider supplies tokens`() = runBlocking {
        emulator.user(NIN_APPROVE, "approve", afterMs = 200)
        val calls = AtomicInteger()
        // A suspend function, as a Ktor or Retrofit call to a backend would be.
        val provider = TokenProvider {
            calls.incrementAndGet()
            delay(50)
            withContext(Dispatchers.IO) { emulator.token() }
        }
        val withProvider = SafeconvClient.withTokenProvider(emulator.config(clientSecret = null, clientId = null), provider)
        assertInstanceOf(Outcome.Success::class.java, withProvider.awaitOutcome(withProvider.startSafeConversation(NIN_APPROVE)))
        assertEquals(1, calls.get())
    }

    @Test
    fun `token provider errors`() {
        val noCredentials = emulator.config(clientSecret = null, clientId = null)
        val refusing = SafeconvClient.withTokenProvider(noCredentials, TokenProvider {
            throw SafeconvException.Authentication("backend_refused", "agent is not signed in", null)
        })
        assertEquals("backend_refused", assertThrows<SafeconvException.Authentication> {
            runBlocking { refusing.startSafeConversation(NIN_APPROVE) }
        }.error)
        val broken = SafeconvClient.withTokenProvider(noCredentials, TokenProvider { throw IllegalStateException("backend unreachable") })
        assertEquals("token_provider_failed", assertThrows<SafeconvException.Authentication> {
            runBlocking { broken.startSafeConversation(NIN_APPROVE) }
        }.error)
        assertThrows<SafeconvException.InvalidInput> {
            SafeconvClient.withTokenProvider(emulator.config(), TokenProvider { emulator.token() })
        }
    }

    @Test
    fun `a start given up while the token provider suspends cancels its coroutine`() = runBlocking {
        val entered = CompletableDeferred<Unit>()
        val providerCancelled = CompletableDeferred<Unit>()
        val hanging = TokenProvider {
            entered.complete(Unit)
            try {
                awaitCancellation()
            } finally {
                providerCancelled.complete(Unit)
            }
        }
        val withProvider = SafeconvClient.withTokenProvider(emulator.config(clientSecret = null, clientId = null), hanging)
        val before = emulator.createRequests()
        val handle = CancelHandle()
        val starting = async(Dispatchers.Default) {
            runCatching { withProvider.startSafeConversation(NIN_SILENT, cancel = handle) }
        }
        withTimeout(5_000) { entered.await() }
        handle.cancel()
        val result = withTimeout(5_000) { starting.await() }
        assertInstanceOf(SafeconvException.Cancelled::class.java, result.exceptionOrNull())
        withTimeout(5_000) { providerCancelled.await() }
        assertEquals(before, emulator.createRequests())
    }

    // --- Kotlin idioms -------------------------------------------------------------------------

    @Test
    fun `the exception message is the core's wording`() {
        val error = assertThrows<SafeconvException.InvalidInput> {
            SafeconvClient(ClientConfig(accountId = "a-1", clientId = "id", clientSecret = "s", baseUrl = "http://example.com"))
        }
        assertEquals("invalid base_url: must use https (plain http is allowed only for loopback addresses)", error.message)
        assertEquals(error.message, error.toString())
        assertEquals(error.message, error.localizedMessage)
        val nin = assertThrows<SafeconvException.InvalidNin> { checkNin("12345") }
        assertFalse(nin.message!!.contains("reasonCode="), nin.message)
    }

    @Test
    fun `records are immutable values`() {
        for (record in listOf(
            ClientConfig::class.java, StartOptions::class.java, AccessToken::class.java, Session::class.java,
            Subject::class.java, SubjectNin::class.java, SessionError::class.java, NinRules::class.java,
            NinInfo::class.java, LogRecord::class.java, LogField::class.java, InvalidParam::class.java,
        )) {
            assertTrue(record.methods.none { it.name.startsWith("set") }, "${record.simpleName} has a setter")
        }
        val options = StartOptions(language = "nb")
        assertEquals("call-1", options.copy(externalReference = "call-1").externalReference)
        assertNull(options.externalReference)
    }

    @Test
    fun `no method clashes with Object's`() {
        val objectMethods = setOf("wait", "notify", "notifyAll", "getClass", "clone", "finalize")
        for (type in listOf(SafeconvClient::class.java, SafeconvClientInterface::class.java, CancelHandle::class.java)) {
            assertTrue(type.declaredMethods.none { it.name in objectMethods }, "${type.simpleName} declares an Object method name")
        }
    }

    @Test
    fun `cancel handle stops a get`() = runBlocking {
        emulator.user(NIN_SILENT, "never-answer")
        val session = client.startSafeConversation(NIN_SILENT)
        emulator.fault("get-session", "slow", delayMs = 3000)
        val handle = CancelHandle()
        val reading = async(Dispatchers.Default) { runCatching { client.getSession(session.id, cancel = handle) } }
        delay(300)
        val cancelledAt = System.nanoTime()
        handle.cancel()
        val result = withTimeout(5_000) { reading.await() }
        assertInstanceOf(SafeconvException.Cancelled::class.java, result.exceptionOrNull())
        assertTrue(Duration.ofNanos(System.nanoTime() - cancelledAt) < Duration.ofSeconds(1))
        emulator.clearFaults()
        client.cancelSession(session.id)
        Unit
    }

    // --- the artefact --------------------------------------------------------------------------

    @Test
    fun `the JAR from the local Maven repository carries the version and the library`() {
        val version = safeconvVersion()
        assertEquals(System.getenv("SAFECONV_VERSION") ?: version, version, "the library is Cargo.toml's version")
        val jar = SafeconvClient::class.java.protectionDomain.codeSource.location.toURI().path
        assertTrue(jar.endsWith("/no/safeconv/safeconv-kotlin/$version/safeconv-kotlin-$version.jar"), jar)
        assertEquals(version, SafeconvClient::class.java.`package`.implementationVersion, "the manifest's version")
        val native = SafeconvClient::class.java.classLoader.getResource("linux-x86-64/libsafeconv_uniffi.so")
        assertNotNull(native)
        assertTrue(native.toString().startsWith("jar:file:") && native.toString().contains(jar), native.toString())
    }

    // --- logs ----------------------------------------------------------------------------------

    @Test
    fun `log records arrive by level without NINs`() = runBlocking {
        emulator.user(NIN_APPROVE, "approve", afterMs = 200)
        val book = LogBook()
        setLogSink(book.sink, LogLevel.INFO)
        assertInstanceOf(Outcome.Success::class.java, client.awaitOutcome(client.startSafeConversation(NIN_APPROVE)))
        val info = book.snapshot()
        val created = info.first { it.message == "session created" }
        assertEquals(LogLevel.INFO, created.level)
        assertEquals("safeconv::client", created.target)
        assertTrue(created.fields.any { it.name == "session_id" && it.value.isNotBlank() })
        assertTrue(info.none { it.level == LogLevel.DEBUG || it.level == LogLevel.TRACE })

        book.records.clear()
        setLogSink(book.sink, LogLevel.DEBUG)
        assertInstanceOf(Outcome.Success::class.java, client.awaitOutcome(client.startSafeConversation(NIN_APPROVE)))
        val debug = book.snapshot()
        val start = debug.first { it.message == "starting a Safe Conversation" }
        assertEquals(LogLevel.DEBUG, start.level)
        assertEquals("010180*****", start.fields.first { it.name == "nin" }.value)
        for (record in debug) {
            assertFalse(record.message.contains(NIN_APPROVE) || record.fields.any { it.value.contains(NIN_APPROVE) }, "a NIN leaked into $record")
        }
    }

    @Test
    fun `log records reach SLF4J`() = runBlocking {
        emulator.user(NIN_APPROVE, "approve", afterMs = 200)
        val logger = LoggerFactory.getLogger("safeconv") as Logger
        val appender = ListAppender<ILoggingEvent>().apply { start() }
        logger.addAppender(appender)
        logger.isAdditive = false
        try {
            logger.level = Level.INFO
            Slf4jLogSink.install()
            assertInstanceOf(Outcome.Success::class.java, client.awaitOutcome(client.startSafeConversation(NIN_APPROVE)))
            val events = synchronized(appender) { appender.list.toList() }
            val created = events.first { it.message == "session created" }
            assertEquals("safeconv.client", created.loggerName)
            assertEquals(Level.INFO, created.level)
            assertTrue(created.keyValuePairs.any { it.key == "session_id" && it.value.toString().isNotBlank() })
            assertTrue(events.none { it.level == Level.DEBUG || it.level == Level.TRACE })
            assertTrue(events.none { it.formattedMessage.contains(NIN_APPROVE) || it.keyValuePairs.orEmpty().any { kv -> kv.value.toString().contains(NIN_APPROVE) } })
        } finally {
            logger.detachAppender(appender)
            logger.isAdditive = true
        }
    }

    @Test
    fun `a logger that throws does not fail the call`() = runBlocking {
        emulator.user(NIN_APPROVE, "approve", afterMs = 200)
        setLogSink(LogSink { throw IllegalStateException("the logger is broken") }, LogLevel.TRACE)
        assertInstanceOf(Outcome.Success::class.java, client.awaitOutcome(client.startSafeConversation(NIN_APPROVE)))
        Unit
    }

    // --- many at once ---------------------------------------------------------------------------

    @Test
    fun `twenty concurrent sessions`() = runBlocking {
        emulator.user(NIN_APPROVE, "approve", afterMs = 300)
        val started = System.nanoTime()
        val results = (1..20).map {
            async {
                val session = client.startSafeConversation(NIN_APPROVE)
                val recorder = Recorder()
                Triple(session.id, client.awaitOutcome(session, recorder), recorder.statuses)
            }
        }.awaitAll()
        assertEquals(20, results.map { it.first }.toSet().size)
        assertTrue(results.all { it.second is Outcome.Success })
        assertTrue(results.all { it.third.last() == "SUCCESS" })
        assertTrue(Duration.ofNanos(System.nanoTime() - started) < Duration.ofSeconds(20))
    }
}

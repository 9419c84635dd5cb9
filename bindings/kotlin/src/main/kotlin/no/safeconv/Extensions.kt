// Idiomatic Kotlin on top of the generated bindings (generated/kotlin/no/safeconv/safeconv.kt).
// The generated async methods are already `suspend` functions; these add a Flow of status
// changes, lambda factories for the callback interfaces, and small conveniences.

package no.safeconv

import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow

/**
 * The status changes of [session] as a cold [Flow]: collecting it waits for the session (like
 * [SafeconvClient.awaitOutcome]) and emits the session each time its status changes, the final one
 * included, then completes. A session that has already ended emits nothing.
 *
 * Failures surface as [SafeconvException] in the collector. Cancelling the collecting coroutine
 * (or a terminal operator such as `first { ... }`) cancels the wait, and with it the session at
 * Signicat. For status values only: `statusChanges(session).map { it.status }`.
 */
fun SafeconvClient.statusChanges(
    session: Session,
    timeout: java.time.Duration? = null,
    cancel: CancelHandle? = null,
): Flow<Session> = callbackFlow {
    // The listener runs on a Rust worker thread; the channel is unbounded, so trySend never fails
    // while the flow is collected (and is dropped quietly once it is not).
    val listener = StatusListener { trySend(it) }
    awaitOutcome(session, listener, timeout, cancel)
    close()
}.buffer(Channel.UNLIMITED)

/** A [StatusListener] from a lambda: `client.awaitOutcome(session, StatusListener { println(it.status) })`. */
fun StatusListener(block: (Session) -> Unit): StatusListener = object : StatusListener {
    override fun onStatus(session: Session) = block(session)
}

/**
 * A [TokenProvider] from a suspending lambda, e.g. a Ktor or Retrofit call for the signed-in
 * agent's own credential for safeconv-relay (an agent app never holds a Signicat token):
 * `TokenProvider { AccessToken(agentLogin.accessToken(), Duration.ofMinutes(5)) }`. It runs
 * in a coroutine of its own (on [kotlinx.coroutines.Dispatchers.Default]; use `withContext` for
 * blocking code), one call at a time, and is cancelled when the call that needed the token is
 * given up. Throw [SafeconvException.Authentication] when no token can be had.
 */
fun TokenProvider(block: suspend () -> AccessToken): TokenProvider = object : TokenProvider {
    override suspend fun accessToken(): AccessToken = block()
}

/** Whether the session has ended. Unknown statuses count as still running. */
val SessionStatus.isFinal: Boolean get() = statusIsFinal(this)

/** Signicat's spelling of the status, e.g. `WAITING_FOR_USER`. */
val SessionStatus.signicatName: String get() = statusName(this)

/** How the session ended, or `null` while it is still running. */
val Session.outcome: Outcome? get() = sessionOutcome(this)

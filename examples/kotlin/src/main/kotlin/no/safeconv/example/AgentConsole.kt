// A call-centre agent's console: type the caller's national identity number, read the binding
// message aloud, watch the status change while the caller confirms in the BankID app, and see
// who was verified. Type `c` and Enter while waiting to cancel.
//
// An agent's app holds neither the Signicat client secret nor a Signicat token: it talks to
// safeconv-relay with the agent's own credential. Configuration from the environment:
// SAFECONV_RELAY_URL (the relay) and SAFECONV_AGENT_KEY (this agent's relay key; with an
// identity provider, the signed-in agent's JWT instead).

package no.safeconv.example

import kotlin.concurrent.thread
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.async
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.selects.select
import no.safeconv.AccessToken
import no.safeconv.CancelHandle
import no.safeconv.ClientConfig
import no.safeconv.Outcome
import no.safeconv.SafeconvClient
import no.safeconv.SafeconvException
import no.safeconv.Session
import no.safeconv.TokenProvider
import no.safeconv.checkNin
import no.safeconv.outcome
import no.safeconv.safeconvVersion
import no.safeconv.signicatName
import no.safeconv.statusChanges
import java.time.Duration

private fun env(name: String): String? = System.getenv(name)?.takeIf { it.isNotBlank() }

/** The relay, and the agent's own credential as the token the SDK sends it. */
private fun client(): SafeconvClient {
    val relay = env("SAFECONV_RELAY_URL") ?: error("set SAFECONV_RELAY_URL (safeconv-relay's address)")
    val agentKey = env("SAFECONV_AGENT_KEY") ?: error("set SAFECONV_AGENT_KEY (the agent's key for the relay)")
    val loopback = relay.startsWith("http://127.0.0.1") || relay.startsWith("http://localhost")
    return SafeconvClient.withTokenProvider(
        // The relay knows its Signicat account; the id here is not used.
        ClientConfig(accountId = "via-relay", baseUrl = relay, pollInterval = if (loopback) Duration.ofMillis(250) else null),
        TokenProvider { AccessToken(agentKey, null) },
    )
}

fun main() = runBlocking {
    val client = try {
        client()
    } catch (e: SafeconvException) {
        println("Cannot start: $e")
        return@runBlocking
    } catch (e: IllegalStateException) {
        println("Cannot start: ${e.message}")
        return@runBlocking
    }
    println("safeconv agent console (safeconv ${safeconvVersion()}): through safeconv-relay at ${client.baseUrl()}")

    val input = Input()
    while (true) {
        print("\nCaller's national identity number (blank to quit): ")
        System.out.flush()
        val nin = input.next()?.trim()
        if (nin.isNullOrEmpty()) break
        try {
            verify(client, nin, input)
        } catch (e: SafeconvException) {
            println("✘ $e")
        }
    }
    println("Bye.")
}

/**
 * Standard input, read by one thread for the whole run, so that a line typed while a session is
 * waiting is either the cancel command or kept for the next prompt.
 */
private class Input {
    val lines = Channel<String?>(Channel.UNLIMITED)
    private val pending = ArrayDeque<String?>()

    init {
        thread(isDaemon = true, name = "stdin") {
            while (true) {
                val line = readlnOrNull()
                lines.trySend(line)
                if (line == null) break
            }
        }
    }

    suspend fun next(): String? = if (pending.isNotEmpty()) pending.removeFirst() else lines.receive()

    fun keep(line: String?) = pending.addLast(line)
}

// In its own scope: a failed wait ends this verification (the error is shown), not the console.
private suspend fun verify(client: SafeconvClient, nin: String, input: Input) = coroutineScope {
    val info = checkNin(nin)
    println("Starting Safe Conversation for ${info.masked} (${info.kind.name.lowercase().replace('_', ' ')})")
    val session = client.startSafeConversation(nin)
    println("Read this to the caller: «${session.bindingMessage}»")
    println("Waiting for the caller to confirm in the BankID app (c + Enter to cancel)...")

    val handle = CancelHandle()
    val waiting = async {
        var last: Session? = null
        client.statusChanges(session, cancel = handle).collect {
            println("  status: ${it.status.signicatName}")
            last = it
        }
        last?.outcome ?: session.outcome
    }
    var outcome: Outcome? = null
    while (outcome == null && waiting.isActive) {
        select<Unit> {
            waiting.onAwait { outcome = it }
            input.lines.onReceive { line ->
                if (line?.trim().equals("c", ignoreCase = true)) {
                    println("  cancelling...")
                    handle.cancel()
                } else {
                    input.keep(line)
                }
            }
        }
    }
    if (outcome == null) outcome = waiting.await()
    println(
        when (val o = outcome) {
            is Outcome.Success -> "✔ Verified: ${o.subject.name ?: "?"}, born ${o.subject.dateOfBirth ?: "?"} " +
                "(NIN ${o.subject.nin?.let { no.safeconv.maskNin(it.value) } ?: "?"})"
            is Outcome.Aborted -> "✘ The caller declined in the BankID app."
            is Outcome.Cancelled -> "✘ Cancelled."
            is Outcome.Expired -> "✘ The caller did not answer in time."
            is Outcome.Failed -> "✘ Failed: ${o.error?.code ?: o.status.signicatName}"
            null -> "✘ No outcome."
        },
    )
}

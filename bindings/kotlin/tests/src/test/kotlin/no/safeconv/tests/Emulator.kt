package no.safeconv.tests

import java.net.URI
import java.net.URLEncoder
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration
import no.safeconv.AccessToken
import no.safeconv.ClientConfig

/** The Signicat emulator's admin API, at the URL scripts/test-kotlin.sh passes in SAFECONV_EMULATOR_URL. */
class Emulator(val url: String) {
    private val http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()

    private fun call(method: String, path: String, json: String? = null): String {
        val body = if (json == null) HttpRequest.BodyPublishers.noBody() else HttpRequest.BodyPublishers.ofString(json)
        val request = HttpRequest.newBuilder(URI.create(url + path))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .method(method, body)
            .build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofString())
        check(response.statusCode() in 200..299) { "emulator $method $path answered ${response.statusCode()}" }
        return response.body()
    }

    /** `behaviour` is e.g. `"approve","afterMs":300` without the braces. */
    fun user(nin: String, behaviour: String, afterMs: Int? = null, code: String? = null) {
        val fields = buildList {
            add("\"behaviour\":\"$behaviour\"")
            afterMs?.let { add("\"afterMs\":$it") }
            code?.let { add("\"code\":\"$it\"") }
        }
        call("PUT", "/emulator/users/$nin", fields.joinToString(",", "{", "}"))
    }

    fun fault(endpoint: String, kind: String, times: Int = 1, delayMs: Int? = null) {
        val delay = delayMs?.let { ",\"delayMs\":$it" } ?: ""
        call("POST", "/emulator/faults", """{"endpoint":"$endpoint","fault":{"kind":"$kind"$delay},"times":$times}""")
    }

    /** How many session creates the emulator has received. */
    fun createRequests(): Long =
        Regex("\"createRequests\"\\s*:\\s*(\\d+)").find(call("GET", "/emulator/counters"))!!.groupValues[1].toLong()

    /** The session's status as the emulator holds it (e.g. `CANCELLED`). */
    fun sessionStatus(id: String): String =
        Regex("\"status\"\\s*:\\s*\"([A-Z_]+)\"").find(call("GET", "/emulator/sessions/$id"))!!.groupValues[1]

    fun clearFaults() {
        call("DELETE", "/emulator/faults")
    }

    fun minSessionLifetime(seconds: Int) {
        call("PUT", "/emulator/config", """{"minSessionLifetimeSecs":$seconds}""")
    }

    /** A token from the emulator's token endpoint, as an agent app's backend would fetch it. */
    fun token(): AccessToken {
        val form = mapOf(
            "grant_type" to "client_credentials",
            "scope" to "signicat-api",
            "client_id" to CLIENT_ID,
            "client_secret" to CLIENT_SECRET,
        ).entries.joinToString("&") { (k, v) -> "$k=" + URLEncoder.encode(v, Charsets.UTF_8) }
        val request = HttpRequest.newBuilder(URI.create("$url/auth/open/connect/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(form))
            .build()
        val body = http.send(request, HttpResponse.BodyHandlers.ofString()).body()
        val token = Regex("\"access_token\"\\s*:\\s*\"([^\"]+)\"").find(body)!!.groupValues[1]
        val expiresIn = Regex("\"expires_in\"\\s*:\\s*(\\d+)").find(body)?.groupValues?.get(1)?.toLong()
        return AccessToken(token, expiresIn?.let { Duration.ofSeconds(it) })
    }

    fun config(clientSecret: String? = CLIENT_SECRET, clientId: String? = CLIENT_ID) = ClientConfig(
        accountId = ACCOUNT_ID,
        clientId = clientId,
        clientSecret = clientSecret,
        baseUrl = url,
        pollInterval = Duration.ofMillis(50),
    )

    companion object {
        const val CLIENT_ID = "safeconv-demo-client"
        const val CLIENT_SECRET = "safeconv-demo-secret"
        const val ACCOUNT_ID = "a-spge-emulator"

        // Valid fødselsnummer (correct check digits); each test sets their behaviour.
        const val NIN_APPROVE = "01018010018"
        const val NIN_DECLINE = "17029010021"
        const val NIN_FAIL = "15058510170"
        const val NIN_SILENT = "24047510003"
        const val NIN_NO_APP = "31129910065"

        fun fromEnvironment(): Emulator {
            val url = System.getenv("SAFECONV_EMULATOR_URL")
            require(!url.isNullOrBlank()) { "SAFECONV_EMULATOR_URL is not set: run scripts/test-kotlin.sh (it starts the emulator)" }
            return Emulator(url.trimEnd('/'))
        }
    }
}

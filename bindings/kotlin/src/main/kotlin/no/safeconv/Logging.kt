// The SDK's log records (retries, token renewals, sessions created and cancelled) for Kotlin
// loggers: a lambda factory for the generated LogSink interface, and an SLF4J adapter.

package no.safeconv

import org.slf4j.Logger
import org.slf4j.LoggerFactory
import org.slf4j.event.Level

/**
 * A [LogSink] from a lambda: `setLogSink(LogSink { println(it.message) }, LogLevel.INFO)`. It is
 * called on the SDK's worker threads, possibly several at once; what it throws is dropped.
 */
fun LogSink(block: (LogRecord) -> Unit): LogSink = object : LogSink {
    override fun log(record: LogRecord) = block(record)
}

/**
 * Sends each record to the SLF4J logger named after its source, with `::` as dots
 * (`safeconv::client` logs to `safeconv.client`), at the same level, with the record's fields as
 * SLF4J key-value pairs. NINs are already masked.
 *
 * Needs `org.slf4j:slf4j-api` 2.x on the class path (the JAR declares it optional); nothing else
 * in the package touches SLF4J. On Android, use an SLF4J binding for Logcat, or a [LogSink] that
 * calls `android.util.Log` (see docs/mobile.md).
 */
class Slf4jLogSink : LogSink {
    override fun log(record: LogRecord) {
        val logger = LoggerFactory.getLogger(record.target.replace("::", "."))
        val level = record.level.slf4j
        if (!logger.isEnabledForLevel(level)) return
        record.fields
            .fold(logger.atLevel(level).setMessage(record.message)) { event, field -> event.addKeyValue(field.name, field.value) }
            .log()
    }

    companion object {
        /**
         * Forwards the SDK's records to SLF4J at the most detailed level that the logger
         * `safeconv` has enabled now (call it again after changing that level).
         */
        fun install() {
            setLogSink(Slf4jLogSink(), LoggerFactory.getLogger("safeconv").mostDetailedLevel())
        }
    }
}

private val LogLevel.slf4j: Level
    get() = when (this) {
        LogLevel.ERROR -> Level.ERROR
        LogLevel.WARN -> Level.WARN
        LogLevel.INFO -> Level.INFO
        LogLevel.DEBUG -> Level.DEBUG
        LogLevel.TRACE -> Level.TRACE
    }

private fun Logger.mostDetailedLevel(): LogLevel =
    LogLevel.entries.lastOrNull { isEnabledForLevel(it.slf4j) } ?: LogLevel.ERROR

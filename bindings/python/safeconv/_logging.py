"""The SDK's log records in Python's :mod:`logging`."""

import logging
import typing

from ._native import safeconv as _ffi

# logging has no TRACE; 5 sits below DEBUG (10), where TRACE usually goes.
TRACE = 5

_TO_PYTHON = {
    _ffi.LogLevel.ERROR: logging.ERROR,
    _ffi.LogLevel.WARN: logging.WARNING,
    _ffi.LogLevel.INFO: logging.INFO,
    _ffi.LogLevel.DEBUG: logging.DEBUG,
    _ffi.LogLevel.TRACE: TRACE,
}


def _sdk_level(python_level: int) -> "_ffi.LogLevel":
    """The most detailed SDK level that a logger at ``python_level`` lets through."""
    for sdk, python in reversed(_TO_PYTHON.items()):
        if python >= python_level:
            return sdk
    return _ffi.LogLevel.ERROR


class LoggingSink(_ffi.LogSink):
    """Hands each record to the logger named after its source, with ``::`` as dots
    (``safeconv::client`` logs to ``logging.getLogger("safeconv.client")``). The message is
    followed by the record's fields as ``name=value``; the fields are also on the
    :class:`logging.LogRecord` as ``safeconv_fields`` (a dict). NINs are already masked."""

    def log(self, record: "_ffi.LogRecord") -> None:
        logger = logging.getLogger(record.target.replace("::", "."))
        level = _TO_PYTHON.get(record.level, logging.INFO)
        if not logger.isEnabledFor(level):
            return
        fields = "".join(f" {field.name}={field.value}" for field in record.fields)
        logger.log(
            level,
            "%s%s",
            record.message,
            fields,
            extra={"safeconv_fields": {field.name: field.value for field in record.fields}},
        )


def install_logging(level: typing.Optional[int] = None) -> None:
    """Sends the SDK's log records (retries, token renewals, sessions created and cancelled)
    to :mod:`logging`, below the logger ``safeconv``. ``level`` is the most detailed
    :mod:`logging` level to forward; by default whatever ``logging.getLogger("safeconv")``
    lets through when this is called (call it again after changing that level).
    ``safeconv.set_log_sink(None, safeconv.LogLevel.ERROR)`` stops the forwarding.

    Records are logged on the thread where the SDK works when it logs: mostly the event loop's
    (inside an ``await`` of an SDK call), sometimes one of the SDK's own threads. A handler that
    blocks (network, slow disk) therefore holds up the event loop as it would for any other
    ``logging`` call there: put such handlers behind a :class:`logging.handlers.QueueHandler`."""
    if level is None:
        level = logging.getLogger("safeconv").getEffectiveLevel()
    _ffi.set_log_sink(LoggingSink(), _sdk_level(level))

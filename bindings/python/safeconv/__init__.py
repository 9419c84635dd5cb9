"""safeconv: verify a caller with Norwegian BankID Safe Conversation through Signicat.

The Rust core through its UniFFI bridge: ``safeconv._native`` is the module uniffi-bindgen
generates, packed with the native library by maturin; this package is the API over it, with what
a Python developer expects on top of the generated code: ``SessionStatus`` as an
:class:`enum.Enum`, status listeners that never block the event loop, ``status_changes`` for
``async for``, ``str(error)`` in the core's wording, masked ``repr``s, ``install_logging`` for
:mod:`logging`, and type hints (``py.typed``, ``__init__.pyi``).
"""

from . import _exit  # noqa: F401 (finishes the SDK's background work at interpreter exit)
from . import _printing  # noqa: F401 (the reprs and the errors' wording, set on import)
from ._client import SafeconvClient, StatusChanges
from ._logging import LoggingSink, install_logging
from ._native.safeconv import (
    AccessToken,
    CancelHandle,
    ClientConfig,
    InternalError,
    InvalidParam,
    LogField,
    LogLevel,
    LogRecord,
    LogSink,
    NinInfo,
    NinKind,
    NinRules,
    Outcome,
    SafeconvError,
    Session,
    SessionError,
    StartOptions,
    StatusListener,
    Subject,
    SubjectNin,
    TokenProvider,
    TransportErrorKind,
    TrustRoots,
    check_nin,
    mask_nin,
    safeconv_version,
    session_outcome,
    set_log_sink,
    status_is_final,
    status_name,
    wait_for_background_work,
)
from ._status import SessionStatus

#: The version of the SDK, the same as the Rust core's (``Cargo.toml``).
__version__: str = safeconv_version()

__all__ = [
    "AccessToken",
    "CancelHandle",
    "ClientConfig",
    "InternalError",
    "InvalidParam",
    "LogField",
    "LogLevel",
    "LogRecord",
    "LogSink",
    "LoggingSink",
    "NinInfo",
    "NinKind",
    "NinRules",
    "Outcome",
    "SafeconvClient",
    "SafeconvError",
    "Session",
    "SessionError",
    "SessionStatus",
    "StartOptions",
    "StatusChanges",
    "StatusListener",
    "Subject",
    "SubjectNin",
    "TokenProvider",
    "TransportErrorKind",
    "TrustRoots",
    "__version__",
    "check_nin",
    "install_logging",
    "mask_nin",
    "safeconv_version",
    "session_outcome",
    "set_log_sink",
    "status_is_final",
    "status_name",
    "wait_for_background_work",
]

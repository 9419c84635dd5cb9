# Type hints of the `safeconv` package as users import it (PEP 561). The runtime is the module
# uniffi-bindgen generates plus the Python layer in this folder; scripts/test-python.sh checks
# this file against it with mypy's stubtest and type-checks a usage file with mypy --strict.
import enum
from datetime import datetime, timedelta
from typing import Any, Callable, Coroutine, List, Optional, Union

__version__: str  # the core's version, from Cargo.toml

class InternalError(Exception): ...

# --- enums ------------------------------------------------------------------------------------

class SessionStatus(enum.Enum):
    """A session's status; the value is Signicat's spelling. A status this SDK does not know is
    kept: ``name`` ``"UNKNOWN"``, ``value`` its spelling, not final, not in ``list(SessionStatus)``."""
    CREATED = "CREATED"
    WAITING_FOR_USER = "WAITING_FOR_USER"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    ABORT = "ABORT"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    INVALID = "INVALID"
    @property
    def value(self) -> str: ...
    @property
    def is_final(self) -> bool: ...
    def is_unknown(self) -> bool: ...
    def is_created(self) -> bool: ...
    def is_waiting_for_user(self) -> bool: ...
    def is_success(self) -> bool: ...
    def is_error(self) -> bool: ...
    def is_abort(self) -> bool: ...
    def is_cancelled(self) -> bool: ...
    def is_expired(self) -> bool: ...
    def is_invalid(self) -> bool: ...

class NinKind(enum.Enum):
    BIRTH_NUMBER = 0
    D_NUMBER = 1
    H_NUMBER = 2
    SYNTHETIC = 3
    FH_NUMBER = 4

class TransportErrorKind(enum.Enum):
    TIMEOUT = 0
    CONNECT = 1
    CONNECTION = 2
    TLS = 3
    PROXY = 4

class TrustRoots(enum.Enum):
    BUNDLED = 0
    NATIVE = 1
    BUNDLED_AND_NATIVE = 2
    ADDED_ONLY = 3

class LogLevel(enum.Enum):
    ERROR = 1
    WARN = 2
    INFO = 3
    DEBUG = 4
    TRACE = 5

# --- records ----------------------------------------------------------------------------------

class NinRules:
    allow_synthetic: bool
    allow_invalid_check_digits: bool
    def __init__(self, *, allow_synthetic: bool = ..., allow_invalid_check_digits: bool = ...) -> None: ...

class NinInfo:
    masked: str
    kind: NinKind
    check_digits_valid: bool
    def __init__(self, *, masked: str, kind: NinKind, check_digits_valid: bool) -> None: ...

class ClientConfig:
    account_id: str
    client_id: Optional[str]
    client_secret: Optional[str]
    base_url: Optional[str]
    token_url: Optional[str]
    request_timeout: Optional[timedelta]
    poll_interval: Optional[timedelta]
    user_agent: Optional[str]
    nin_rules: Optional[NinRules]
    trust_roots: Optional[TrustRoots]
    ca_pems: List[str]
    ca_files: List[str]
    proxy_url: Optional[str]
    proxy_username: Optional[str]
    proxy_password: Optional[str]
    no_proxy: Optional[str]
    def __init__(
        self,
        *,
        account_id: str,
        client_id: Optional[str] = ...,
        client_secret: Optional[str] = ...,
        base_url: Optional[str] = ...,
        token_url: Optional[str] = ...,
        request_timeout: Optional[timedelta] = ...,
        poll_interval: Optional[timedelta] = ...,
        user_agent: Optional[str] = ...,
        nin_rules: Optional[NinRules] = ...,
        trust_roots: Optional[TrustRoots] = ...,
        ca_pems: List[str] = ...,
        ca_files: List[str] = ...,
        proxy_url: Optional[str] = ...,
        proxy_username: Optional[str] = ...,
        proxy_password: Optional[str] = ...,
        no_proxy: Optional[str] = ...,
    ) -> None: ...

class AccessToken:
    token: str
    expires_in: Optional[timedelta]
    def __init__(self, *, token: str, expires_in: Optional[timedelta] = ...) -> None: ...

class StartOptions:
    attributes: Optional[List[str]]
    language: Optional[str]
    session_lifetime: Optional[int]
    external_reference: Optional[str]
    tags: Optional[List[str]]
    requested_loa: Optional[str]
    nin_rules: Optional[NinRules]
    def __init__(
        self,
        *,
        attributes: Optional[List[str]] = ...,
        language: Optional[str] = ...,
        session_lifetime: Optional[int] = ...,
        external_reference: Optional[str] = ...,
        tags: Optional[List[str]] = ...,
        requested_loa: Optional[str] = ...,
        nin_rules: Optional[NinRules] = ...,
    ) -> None: ...

class SubjectNin:
    value: str
    issuing_country: Optional[str]
    kind: Optional[str]
    def __init__(self, *, value: str, issuing_country: Optional[str], kind: Optional[str]) -> None: ...

class Subject:
    id: Optional[str]
    idp_id: Optional[str]
    name: Optional[str]
    first_name: Optional[str]
    middle_name: Optional[str]
    last_name: Optional[str]
    date_of_birth: Optional[str]
    nin: Optional[SubjectNin]
    email: Optional[str]
    extra_json: str
    def __init__(
        self,
        *,
        id: Optional[str],
        idp_id: Optional[str],
        name: Optional[str],
        first_name: Optional[str],
        middle_name: Optional[str],
        last_name: Optional[str],
        date_of_birth: Optional[str],
        nin: Optional[SubjectNin],
        email: Optional[str],
        extra_json: str,
    ) -> None: ...

class SessionError:
    code: Optional[str]
    kind: Optional[str]
    title: Optional[str]
    detail: Optional[str]
    def __init__(self, *, code: Optional[str], kind: Optional[str], title: Optional[str], detail: Optional[str]) -> None: ...

class Session:
    id: str
    status: SessionStatus
    binding_message: Optional[str]
    expires_at: Optional[datetime]
    status_detail: Optional[str]
    provider: Optional[str]
    loa: Optional[str]
    external_reference: Optional[str]
    subject: Optional[Subject]
    error: Optional[SessionError]
    json: str
    def __init__(
        self,
        *,
        id: str,
        status: SessionStatus,
        binding_message: Optional[str],
        expires_at: Optional[datetime],
        status_detail: Optional[str],
        provider: Optional[str],
        loa: Optional[str],
        external_reference: Optional[str],
        subject: Optional[Subject],
        error: Optional[SessionError],
        json: str,
    ) -> None: ...

class Outcome:
    def is_success(self) -> bool: ...
    def is_aborted(self) -> bool: ...
    def is_cancelled(self) -> bool: ...
    def is_expired(self) -> bool: ...
    def is_failed(self) -> bool: ...
    def is_SUCCESS(self) -> bool: ...
    def is_ABORTED(self) -> bool: ...
    def is_CANCELLED(self) -> bool: ...
    def is_EXPIRED(self) -> bool: ...
    def is_FAILED(self) -> bool: ...
    class SUCCESS(Outcome):
        subject: Subject
        def __init__(self, subject: Subject) -> None: ...
    class ABORTED(Outcome):
        def __init__(self) -> None: ...
    class CANCELLED(Outcome):
        def __init__(self) -> None: ...
    class EXPIRED(Outcome):
        def __init__(self) -> None: ...
    class FAILED(Outcome):
        status: SessionStatus
        error: Optional[SessionError]
        def __init__(self, status: SessionStatus, error: Optional[SessionError]) -> None: ...

class InvalidParam:
    name: str
    reason: str
    def __init__(self, *, name: str, reason: str) -> None: ...

class LogField:
    name: str
    value: str
    def __init__(self, *, name: str, value: str) -> None: ...

class LogRecord:
    level: LogLevel
    target: str
    message: str
    fields: List[LogField]
    def __init__(self, *, level: LogLevel, target: str, message: str, fields: List[LogField]) -> None: ...

# --- errors -----------------------------------------------------------------------------------

class SafeconvError(Exception):
    class InvalidInput(SafeconvError):
        field: str
        reason: str
        def __init__(self, field: str, reason: str) -> None: ...
    class InvalidNin(SafeconvError):
        reason_code: str
        reason: str
        def __init__(self, reason_code: str, reason: str) -> None: ...
    class Authentication(SafeconvError):
        error: str
        description: Optional[str]
        http_status: Optional[int]
        def __init__(self, error: str, description: Optional[str], http_status: Optional[int]) -> None: ...
    class Api(SafeconvError):
        http_status: int
        code: Optional[str]
        title: Optional[str]
        detail: Optional[str]
        trace_id: Optional[str]
        invalid_params: List[InvalidParam]
        retry_after: Optional[timedelta]
        def __init__(
            self,
            http_status: int,
            code: Optional[str],
            title: Optional[str],
            detail: Optional[str],
            trace_id: Optional[str],
            invalid_params: List[InvalidParam],
            retry_after: Optional[timedelta],
        ) -> None: ...
    class Transport(SafeconvError):
        kind: TransportErrorKind
        reason: str
        def __init__(self, kind: TransportErrorKind, reason: str) -> None: ...
    class Protocol(SafeconvError):
        reason: str
        def __init__(self, reason: str) -> None: ...
    class Cancelled(SafeconvError):
        reason: str
        def __init__(self, reason: str) -> None: ...

# --- callbacks --------------------------------------------------------------------------------

class StatusListener:
    """Told about each status change of a wait, the final one included: in order, one call at a
    time, on a worker thread of the package, never the event loop's. It may block (that holds up
    only its own wait); what it raises is logged to the ``safeconv`` logger."""
    def on_status(self, session: Session) -> None: ...

class TokenProvider:
    """Supplies access tokens from your code (your backend), so that no secret is in the app.
    Called when no cached token is fresh, one call at a time, on a thread of the SDK: it may block.
    Raise ``SafeconvError.Authentication`` when no token can be had."""
    def access_token(self) -> AccessToken: ...

class LogSink:
    """Receives the SDK's log records (NINs masked), on whichever thread the SDK is working on:
    mostly the event loop's. Return quickly; what it raises is dropped."""
    def log(self, record: LogRecord) -> None: ...

class LoggingSink(LogSink):
    def log(self, record: LogRecord) -> None: ...

_Listener = Union[StatusListener, Callable[[Session], object]]

# --- the client -------------------------------------------------------------------------------

class CancelHandle:
    def __init__(self) -> None: ...
    def cancel(self) -> None: ...
    def is_cancelled(self) -> bool: ...
    def child(self) -> CancelHandle:
        """A handle this one's ``cancel`` also cancels; its own ``cancel`` leaves this one alone."""

class StatusChanges:
    """A session's states for ``async for`` (from ``SafeconvClient.status_changes``), the final
    one included; then ``outcome`` is how it ended. Leaving the loop early gives up this wait
    only: the session is cancelled at Signicat, the ``cancel`` handle passed in is not."""
    outcome: Optional[Outcome]
    def __init__(self, start: Callable[[StatusListener], Coroutine[Any, Any, Outcome]]) -> None: ...
    def __aiter__(self) -> StatusChanges: ...
    async def __anext__(self) -> Session: ...
    async def aclose(self) -> None: ...
    async def __aenter__(self) -> StatusChanges: ...
    async def __aexit__(self, *exc_info: object) -> None: ...

class SafeconvClient:
    """A Signicat client for Safe Conversation. Thread-safe; share one per app."""
    def __init__(self, config: ClientConfig) -> None: ...
    @classmethod
    def with_token_provider(cls, config: ClientConfig, provider: TokenProvider) -> SafeconvClient: ...
    def account_id(self) -> str: ...
    def base_url(self) -> str: ...
    async def start_safe_conversation(
        self, nin: str, options: Optional[StartOptions] = ..., cancel: Optional[CancelHandle] = ...
    ) -> Session: ...
    async def get_session(self, session_id: str, cancel: Optional[CancelHandle] = ...) -> Session: ...
    async def cancel_session(self, session_id: str, cancel: Optional[CancelHandle] = ...) -> Session: ...
    async def wait(
        self,
        session: Session,
        listener: Optional[_Listener] = ...,
        timeout: Optional[timedelta] = ...,
        cancel: Optional[CancelHandle] = ...,
    ) -> Outcome: ...
    async def resume(
        self,
        session_id: str,
        listener: Optional[_Listener] = ...,
        timeout: Optional[timedelta] = ...,
        cancel: Optional[CancelHandle] = ...,
    ) -> Outcome: ...
    def status_changes(
        self,
        session: Union[Session, str],
        timeout: Optional[timedelta] = ...,
        cancel: Optional[CancelHandle] = ...,
    ) -> StatusChanges:
        """The status changes of a session (or a session id to resume), for ``async for``."""
    async def wait_for_cleanup(self, timeout: timedelta) -> bool: ...

# --- functions --------------------------------------------------------------------------------

def check_nin(nin: str, rules: Optional[NinRules] = ...) -> NinInfo: ...
def mask_nin(nin: str) -> str: ...
def safeconv_version() -> str: ...
def session_outcome(session: Session) -> Optional[Outcome]: ...
def set_log_sink(sink: Optional[LogSink], level: LogLevel) -> None: ...
async def wait_for_background_work(timeout: timedelta) -> bool:
    """Lets the cancels of given-up starts and waits finish, for every client (also at exit)."""
def status_is_final(status: SessionStatus) -> bool: ...
def status_name(status: SessionStatus) -> str: ...
def install_logging(level: Optional[int] = ...) -> None: ...

"""``SessionStatus`` as an :class:`enum.Enum`.

uniffi-bindgen turns the core's status enum, whose ``Unknown(raw)`` case carries data, into a
class with one nested class per case. Here it is an enum whose values are Signicat's spellings,
and the generated converter is wrapped so that every status crossing the FFI (``Session.status``,
``Outcome.FAILED.status``, ``status_name``, ...) is one of its members. A status this SDK does not
know is still kept, as a member-like value outside the enum's list (see ``_missing_``).
"""

import enum
import typing

from ._native import safeconv as _ffi


class SessionStatus(enum.Enum):
    """A session's status; the value is Signicat's spelling (``SessionStatus("SUCCESS")``).

    A status Signicat adds later arrives as an *unknown* status: ``name`` is ``"UNKNOWN"``,
    ``value`` the raw spelling, :meth:`is_unknown` is true, it counts as still running and it is
    not listed by ``list(SessionStatus)``. The same spelling always gives the same object, so
    ``is`` works for unknown statuses too.
    """

    CREATED = "CREATED"
    WAITING_FOR_USER = "WAITING_FOR_USER"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    ABORT = "ABORT"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    INVALID = "INVALID"

    @classmethod
    def _missing_(cls, value: object) -> typing.Optional["SessionStatus"]:
        if not isinstance(value, str):
            return None
        # A pseudo-member, the way enum.Flag makes its combinations; cached for identity.
        unknown = object.__new__(cls)
        unknown._name_ = "UNKNOWN"
        unknown._value_ = value
        return cls._value2member_map_.setdefault(value, unknown)  # type: ignore[return-value]

    @property
    def is_final(self) -> bool:
        """Whether the session has ended (the core's rule; unknown statuses are not final)."""
        return _ffi.status_is_final(self)  # type: ignore[arg-type]

    def is_unknown(self) -> bool:
        """A status this SDK does not know, kept as Signicat sent it."""
        return self._name_ == "UNKNOWN"

    # The generated API's checks, kept so that code written against it keeps working.
    def is_created(self) -> bool:
        return self is SessionStatus.CREATED

    def is_waiting_for_user(self) -> bool:
        return self is SessionStatus.WAITING_FOR_USER

    def is_success(self) -> bool:
        return self is SessionStatus.SUCCESS

    def is_error(self) -> bool:
        return self is SessionStatus.ERROR

    def is_abort(self) -> bool:
        return self is SessionStatus.ABORT

    def is_cancelled(self) -> bool:
        return self is SessionStatus.CANCELLED

    def is_expired(self) -> bool:
        return self is SessionStatus.EXPIRED

    def is_invalid(self) -> bool:
        return self is SessionStatus.INVALID


# --- the FFI side: generated cases <-> members ------------------------------------------------

_Generated = _ffi.SessionStatus
_converter = _ffi._UniffiFfiConverterTypeSessionStatus
_generated_read = _converter.read
_generated_write = _converter.write


# Each member's generated case (a class); the names are the same on both sides.
_MEMBERS = {getattr(_Generated, member.name): member for member in SessionStatus}


def _from_generated(status: typing.Any) -> SessionStatus:
    if status.is_unknown():
        return SessionStatus(status.raw)
    return _MEMBERS[type(status)]


def _to_generated(status: SessionStatus) -> typing.Any:
    if status.is_unknown():
        return _Generated.UNKNOWN(status.value)
    return getattr(_Generated, status.name)()


def _read(buf: typing.Any) -> SessionStatus:
    return _from_generated(_generated_read(buf))


def _write(value: SessionStatus, buf: typing.Any) -> None:
    _generated_write(_to_generated(value), buf)


def _check_lower(value: object) -> None:
    if not isinstance(value, SessionStatus):
        raise TypeError(f"expected a SessionStatus, got {type(value).__name__}")


setattr(_converter, "read", staticmethod(_read))
setattr(_converter, "write", staticmethod(_write))
setattr(_converter, "check_lower", staticmethod(_check_lower))

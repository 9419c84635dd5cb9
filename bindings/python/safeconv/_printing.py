"""How the SDK's values print in Python, NINs and secrets never shown.

The records whose Rust type exports ``Debug`` (``Session``, ``Subject``, ``SubjectNin``,
``Outcome``, ``ClientConfig``, ``AccessToken``) already print through it, masked by the Rust side,
the same in every language. This module fills the gaps the generated module leaves:

- ``str(error)`` is the core's wording (the Rust ``Display`` the bridge exports, which the
  generated error classes do not call), and ``repr(error)`` names the variant with its
  structured fields and that wording;
- the other records get a ``repr`` of their fields (none of them holds a NIN or a secret:
  ``NinInfo`` has only the masked number);
- the client and the cancel handle say what they are.
"""

import typing

from ._native import safeconv as _ffi


def _record_repr(record: object) -> str:
    fields = ", ".join(f"{name}={value!r}" for name, value in vars(record).items())
    return f"{type(record).__name__}({fields})"


for _record in (
    _ffi.NinInfo,
    _ffi.NinRules,
    _ffi.StartOptions,
    _ffi.SessionError,
    _ffi.InvalidParam,
    _ffi.LogRecord,
    _ffi.LogField,
):
    setattr(_record, "__repr__", _record_repr)


def _core_wording(error: BaseException) -> str:
    """The Rust ``Display`` of the error: the core's message, NINs masked."""
    try:
        lowered = _ffi._UniffiFfiConverterTypeSafeconvError.lower(error)
        return _ffi._UniffiFfiConverterString.lift(
            _ffi._uniffi_rust_call(
                _ffi._UniffiLib.uniffi_safeconv_uniffi_fn_method_safeconverror_uniffi_trait_display,
                lowered,
            )
        )
    except Exception:
        # Built by hand with values that cannot cross (e.g. an http_status out of range).
        return Exception.__str__(error)


# Free text: already in the core's wording, which masks NINs in it.
_WORDED = frozenset({"reason", "description", "title", "detail", "invalid_params"})


def _error_repr(error: BaseException) -> str:
    fields = [
        f"{name}={value!r}"
        for name, value in vars(error).items()
        if name not in _WORDED and not name.startswith("_")
    ]
    fields.append(f"message={str(error)!r}")
    return f"SafeconvError.{type(error).__name__}({', '.join(fields)})"


setattr(_ffi.SafeconvError, "__str__", _core_wording)
for _variant in vars(_ffi.SafeconvError).values():
    if isinstance(_variant, type) and issubclass(_variant, _ffi.SafeconvError):
        setattr(_variant, "__repr__", _error_repr)


def _client_repr(client: typing.Any) -> str:
    return f"SafeconvClient(account_id={client.account_id()!r}, base_url={client.base_url()!r})"


def _cancel_handle_repr(handle: typing.Any) -> str:
    return f"CancelHandle(cancelled={handle.is_cancelled()})"


setattr(_ffi.SafeconvClient, "__repr__", _client_repr)
setattr(_ffi.CancelHandle, "__repr__", _cancel_handle_repr)

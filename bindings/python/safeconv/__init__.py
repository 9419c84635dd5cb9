"""safeconv: Norwegian BankID Safe Conversation through Signicat, for Python.

The API is the one uniffi-bindgen generates from the Rust bridge (module ``safeconv.safeconv``,
produced by the build, next to the native library ``libsafeconv_uniffi.so``); this package adds
what a Python developer expects on top: ``install_logging`` hands the SDK's log records to
:mod:`logging`.
"""

from .safeconv import *  # noqa: F401,F403 (the generated API, its own __all__)
from .safeconv import __all__ as _generated
from ._logging import LoggingSink, install_logging

__all__ = [*_generated, "LoggingSink", "install_logging"]

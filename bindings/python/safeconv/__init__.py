"""safeconv: verify a caller with Norwegian BankID Safe Conversation through Signicat.

The Rust core through its UniFFI bridge: ``safeconv._native`` is the module uniffi-bindgen
generates, packed with the native library by maturin; this package adds what a Python developer
expects on top: ``install_logging`` hands the SDK's log records to :mod:`logging`.
"""

from ._native.safeconv import *  # noqa: F401,F403 (the generated API, its own __all__)
from ._native.safeconv import __all__ as _generated
from ._native.safeconv import safeconv_version
from ._logging import LoggingSink, install_logging

#: The version of the SDK, the same as the Rust core's (``Cargo.toml``).
__version__: str = safeconv_version()

__all__ = [*_generated, "LoggingSink", "install_logging", "__version__"]

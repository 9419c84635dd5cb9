"""At interpreter exit, before Python shuts down: the SDK's work left in the background is
finished, and the log sink is let go.

That work is the cancel of a session whose start or wait was given up (its task cancelled, the
program ending), so that no BankID request stays open on the caller's phone after the program
has gone; it outlives the client that started it. It runs on the SDK's threads and calls back
into Python (the token provider, the log sink). Once the interpreter is finalizing, CPython
ends any thread that asks for the GIL with ``pthread_exit``, and that forced unwind through the
SDK's frames aborts the process ("FATAL: exception not rethrown"). So exit waits for that work
while Python still runs (at most :data:`CLEANUP_AT_EXIT`), and no log record is sent to Python
after.
"""

import asyncio
import atexit
from datetime import timedelta

from ._native import safeconv as _ffi

#: How long exit waits, at the most, for the SDK's background work.
CLEANUP_AT_EXIT = timedelta(seconds=5)


@atexit.register
def _finish_background_work() -> None:
    try:
        asyncio.run(_ffi.wait_for_background_work(CLEANUP_AT_EXIT))
    except RuntimeError:
        pass  # exit called from inside a running event loop: nothing can be awaited there
    _ffi.set_log_sink(None, _ffi.LogLevel.ERROR)

"""The client as asyncio code uses it: status listeners that may block without holding up the
event loop, and a session's status changes as an async iterator.

Why the listener needs a hand: an awaited SDK call is a Rust future that UniFFI polls on the
thread that awaits it, the event loop's, and the core tells the listener about a status change
from inside that poll. Called directly, a listener that blocks (``time.sleep``, a database write)
would stop the event loop and so every other wait. The SDK's listener (``_Forward``) only hands
the session back to the loop; the caller's listener then runs on a worker thread.
"""

import asyncio
import concurrent.futures
import functools
import logging
import typing
from datetime import timedelta

from ._native import safeconv as _ffi

Listener = typing.Union[_ffi.StatusListener, typing.Callable[[_ffi.Session], object]]

_log = logging.getLogger("safeconv")

# Marks the end of a wait in a queue of sessions.
_END = object()

# Where listeners run: threads of their own, so that a blocking listener never takes one of the
# event loop's default executor (asyncio.to_thread) from the application.
_LISTENER_THREADS = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="safeconv-listener")

# The generated methods this module wraps.
_generated_wait = _ffi.SafeconvClient.wait
_generated_resume = _ffi.SafeconvClient.resume


# The generated docstring speaks for every language; this is what Python code gets.
_ffi.StatusListener.__doc__ = """Told about each status change while :meth:`SafeconvClient.wait` or
:meth:`SafeconvClient.resume` runs, the final one included: in order, one call at a time, on a
worker thread of the package (``safeconv-listener-N``), never the event loop's thread. It may
block, which holds up only its own wait (that returns after the last call has returned); what
it raises is logged to the ``safeconv`` logger and the wait goes on. A plain function taking a
:class:`Session` works as well. In a coroutine, use :meth:`SafeconvClient.status_changes`."""


class _Forward(_ffi.StatusListener):
    """The listener the core calls (on the polling thread): passes each session to ``deliver``
    on the event loop, in order, and returns at once."""

    def __init__(self, loop: asyncio.AbstractEventLoop, deliver: typing.Callable[[typing.Any], None]):
        self._loop = loop
        self._deliver = deliver

    def on_status(self, session: _ffi.Session) -> None:
        try:
            self._loop.call_soon_threadsafe(self._deliver, session)
        except RuntimeError:
            pass  # the loop is closed: nobody is left to tell


class _Dispatch:
    """Calls a caller's listener with each session of one wait, in order and one call at a time,
    on a listener thread. What it raises is logged (logger ``safeconv``) and the wait goes on."""

    def __init__(self, listener: Listener, loop: asyncio.AbstractEventLoop):
        self._call = listener.on_status if isinstance(listener, _ffi.StatusListener) else listener
        self._queue: "asyncio.Queue[typing.Any]" = asyncio.Queue()
        self._worker = loop.create_task(self._run(loop))
        self.forward = _Forward(loop, self._queue.put_nowait)

    async def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            session = await self._queue.get()
            if session is _END:
                return
            await loop.run_in_executor(_LISTENER_THREADS, self._call_listener, session)

    def _call_listener(self, session: _ffi.Session) -> None:
        try:
            self._call(session)
        except Exception:
            _log.exception("a status listener raised; the wait goes on")

    async def finish(self) -> None:
        """Returns once every session so far has been handed over and its call returned."""
        self._queue.put_nowait(_END)
        await self._worker

    def abandon(self) -> None:
        self._worker.cancel()


async def _waiting(
    call: typing.Callable[[typing.Optional[_ffi.StatusListener]], typing.Awaitable[_ffi.Outcome]],
    listener: typing.Optional[Listener],
) -> _ffi.Outcome:
    """Runs a wait, its listener's calls dispatched; returns after the last call has returned."""
    if listener is None:
        return await call(None)
    dispatch = _Dispatch(listener, asyncio.get_running_loop())
    try:
        outcome = await call(dispatch.forward)
    except asyncio.CancelledError:
        dispatch.abandon()
        raise
    except BaseException:
        await dispatch.finish()
        raise
    await dispatch.finish()
    return outcome


class StatusChanges:
    """A session's states as a wait sees them, for ``async for``; made by
    :meth:`SafeconvClient.status_changes`.

    Each state is a :class:`Session`, the final one included (its ``status.is_final`` is true);
    then the iteration stops and :attr:`outcome` holds how the session ended. If the wait fails,
    the ``SafeconvError`` is raised by the iteration.

    The wait starts at the first iteration and runs on while the loop body does (states are
    queued). Leaving the loop early (``break``, ``return``, an exception) gives this wait up, as
    cancelling its task would: the core cancels the session at Signicat in the background. Only
    this wait is affected: the ``cancel`` handle passed in is not cancelled, and other waits go
    on. That happens when the iterator is released (at once in CPython, when nothing else holds
    it); ``await changes.aclose()``, or ``async with client.status_changes(...) as changes``,
    does it at a point of your choosing and returns once the wait has stopped.
    """

    def __init__(self, start: typing.Callable[[_ffi.StatusListener], typing.Coroutine[typing.Any, typing.Any, _ffi.Outcome]]):
        # Nothing here may hold the iterator itself, so that dropping it gives the wait up.
        self._start = start
        self._queue: "typing.Optional[asyncio.Queue[typing.Any]]" = None
        self._task: "typing.Optional[asyncio.Task[_ffi.Outcome]]" = None
        self._finished = False
        #: How the session ended, once the iteration has run to its end.
        self.outcome: typing.Optional[_ffi.Outcome] = None

    def __aiter__(self) -> "StatusChanges":
        return self

    async def __anext__(self) -> _ffi.Session:
        if self._finished:
            raise StopAsyncIteration
        if self._task is None:
            loop = asyncio.get_running_loop()
            self._queue = asyncio.Queue()
            self._task = loop.create_task(self._start(_Forward(loop, self._queue.put_nowait)))
            self._task.add_done_callback(functools.partial(_ended, self._queue))
        assert self._queue is not None
        item = await self._queue.get()
        if item is _END:
            self._finished = True
            self.outcome = self._task.result()
            raise StopAsyncIteration
        return typing.cast(_ffi.Session, item)

    async def aclose(self) -> None:
        """Gives the wait up, if it is still running, and returns once it has stopped."""
        self._finished = True
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])

    async def __aenter__(self) -> "StatusChanges":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        task = self._task
        if task is not None and not task.done():
            try:
                task.get_loop().call_soon_threadsafe(task.cancel)
            except RuntimeError:
                pass  # the loop is closed, and the wait with it

    def __repr__(self) -> str:
        state = "not started" if self._task is None else "ended" if self._finished else "running"
        return f"<StatusChanges {state}>"


def _ended(queue: "asyncio.Queue[typing.Any]", task: "asyncio.Task[typing.Any]") -> None:
    if not task.cancelled():
        task.exception()  # retrieved: raised again by __anext__ when it gets there
    queue.put_nowait(_END)


class SafeconvClient(_ffi.SafeconvClient):
    """A Signicat client for Safe Conversation. Thread-safe; share one per app.

    ``SafeconvClient(config)`` authenticates with ``config.client_id`` and
    ``config.client_secret``; ``SafeconvClient.with_token_provider(config, provider)`` gets its
    access tokens from your code instead. Every network call is a coroutine.

    A ``listener`` given to :meth:`wait` or :meth:`resume` (a :class:`StatusListener`, or any
    callable taking a :class:`Session`) is called with each status change, the final one
    included, in order and one call at a time, on a worker thread (``safeconv-listener-N``),
    never on the event loop's thread: it may block, and that holds up only its own wait, which
    returns after the last call has returned. What it raises is logged to the ``safeconv``
    logger and the wait goes on. Use :meth:`status_changes` to get the changes in a coroutine.

    At interpreter exit, the cancels of sessions whose start or wait was given up are finished
    first (at most 5 seconds), so that none stays open on a caller's phone.
    """

    async def wait(
        self,
        session: _ffi.Session,
        # Narrower than the generated method's, whose `object` is only its "not given" marker.
        listener: typing.Optional[Listener] = None,  # type: ignore[override]
        timeout: typing.Optional[timedelta] = None,  # type: ignore[override]
        cancel: typing.Optional[_ffi.CancelHandle] = None,  # type: ignore[override]
    ) -> _ffi.Outcome:
        """Polls ``session`` until it ends and returns how it ended, telling ``listener`` about
        each status change. Gives up after ``timeout`` (or at the session's ``expires_at``), or
        when ``cancel`` is cancelled: the session is then cancelled at Signicat and the real
        outcome returned. Cancelling the calling task also cancels the session."""
        return await _waiting(lambda forward: _generated_wait(self, session, forward, timeout, cancel), listener)

    async def resume(
        self,
        session_id: str,
        listener: typing.Optional[Listener] = None,  # type: ignore[override]
        timeout: typing.Optional[timedelta] = None,  # type: ignore[override]
        cancel: typing.Optional[_ffi.CancelHandle] = None,  # type: ignore[override]
    ) -> _ffi.Outcome:
        """Picks up a session by id (after a restart, or from another device) and waits for it,
        like :meth:`wait`."""
        return await _waiting(lambda forward: _generated_resume(self, session_id, forward, timeout, cancel), listener)

    def status_changes(
        self,
        session: typing.Union[_ffi.Session, str],
        timeout: typing.Optional[timedelta] = None,
        cancel: typing.Optional[_ffi.CancelHandle] = None,
    ) -> StatusChanges:
        """The status changes of ``session`` (a :class:`Session`, or a session id to resume),
        for ``async for``; see :class:`StatusChanges`. ``timeout`` and ``cancel`` work as in
        :meth:`wait`."""
        if isinstance(session, str):
            return StatusChanges(lambda forward: _generated_resume(self, session, forward, timeout, cancel))
        return StatusChanges(lambda forward: _generated_wait(self, session, forward, timeout, cancel))

"""What the Python layer adds over the generated module: listeners off the event loop, status
changes for `async for`, `SessionStatus` as an enum, reprs and error wording."""

import asyncio
import enum
import http.server
import json
import logging
import threading
from datetime import timedelta

import pytest

import safeconv
from conftest import ACCOUNT_ID, NIN_APPROVE, NIN_DECLINE, NIN_FAIL, NIN_SILENT


def run(coro):
    return asyncio.run(coro)


async def until(predicate, seconds=10.0):
    """Waits, without blocking the event loop, until `predicate()` is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        if loop.time() > deadline:
            pytest.fail("gave up waiting")
        await asyncio.sleep(0.01)


# --- listeners ---------------------------------------------------------------------------------


class Blocking(safeconv.StatusListener):
    """Blocks in its first call until the test releases it (at most 10 s)."""

    def __init__(self):
        self.entered = threading.Event()
        self.release = threading.Event()
        self.released = None
        self.statuses = []
        self.threads = set()

    def on_status(self, session):
        self.threads.add(threading.get_ident())
        self.statuses.append(session.status)
        if not self.entered.is_set():
            self.entered.set()
            self.released = self.release.wait(timeout=10)


def test_a_blocking_listener_holds_up_no_other_wait(emulator, client):
    emulator.user(NIN_APPROVE, "approve", afterMs=200)
    emulator.user(NIN_DECLINE, "approve", afterMs=200)
    blocking = Blocking()

    async def flow():
        first = await client.start_safe_conversation(NIN_APPROVE)
        waiting = asyncio.ensure_future(client.wait(first, blocking))
        await until(blocking.entered.is_set)
        # The listener is blocked now. Had it been called on this thread, the event loop would
        # stand still and this second session could not even start.
        second = await client.start_safe_conversation(NIN_DECLINE)
        other = await client.wait(second)
        returned_early = waiting.done()
        blocking.release.set()
        return other, returned_early, await waiting

    other, returned_early, outcome = run(flow())
    assert other.is_success()
    assert blocking.released is True, "the listener was released by its timeout, not by the test"
    # A wait returns only after its listener's last call has returned.
    assert not returned_early
    assert outcome.is_success()
    assert blocking.statuses == [safeconv.SessionStatus.WAITING_FOR_USER, safeconv.SessionStatus.SUCCESS]
    assert threading.get_ident() not in blocking.threads


def test_a_listener_may_be_a_function_and_its_errors_are_logged(emulator, client, caplog):
    emulator.user(NIN_APPROVE, "approve", afterMs=200)
    seen = []

    def listener(session):
        seen.append(session.status)
        raise RuntimeError("the agent's screen is gone")

    async def flow():
        session = await client.start_safe_conversation(NIN_APPROVE)
        return await client.wait(session, listener)

    with caplog.at_level(logging.ERROR, logger="safeconv"):
        outcome = run(flow())
    assert outcome.is_success()
    assert seen == [safeconv.SessionStatus.WAITING_FOR_USER, safeconv.SessionStatus.SUCCESS]
    raised = [r for r in caplog.records if r.name == "safeconv" and r.exc_info]
    assert len(raised) == 2 and "the agent's screen is gone" in str(raised[0].exc_info[1])


# --- status changes as an async iterator ---------------------------------------------------------


def test_status_changes_run_to_the_outcome(emulator, client):
    emulator.user(NIN_APPROVE, "approve", afterMs=300)

    async def flow():
        session = await client.start_safe_conversation(NIN_APPROVE)
        changes = client.status_changes(session)
        states = [state async for state in changes]
        return session, states, changes.outcome

    session, states, outcome = run(flow())
    assert [s.status for s in states] == [safeconv.SessionStatus.WAITING_FOR_USER, safeconv.SessionStatus.SUCCESS]
    assert all(s.id == session.id for s in states)
    assert states[-1].status.is_final and not states[0].status.is_final
    assert isinstance(outcome, safeconv.Outcome.SUCCESS)
    assert outcome.subject.nin.value == NIN_APPROVE


def test_status_changes_by_id_with_a_timeout(emulator, client):
    emulator.user(NIN_SILENT, "never-answer")

    async def flow():
        session = await client.start_safe_conversation(NIN_SILENT)
        changes = client.status_changes(session.id, timeout=timedelta(milliseconds=300))
        return [state.status async for state in changes], changes.outcome

    statuses, outcome = run(flow())
    assert statuses[-1] is safeconv.SessionStatus.CANCELLED
    assert outcome.is_cancelled()


def test_status_changes_raise_what_the_wait_raises(client):
    async def flow():
        async for _ in client.status_changes("no-such-session"):
            pytest.fail("a state of a session that does not exist")

    with pytest.raises(safeconv.SafeconvError.Api) as caught:
        run(flow())
    assert caught.value.http_status == 404


def test_leaving_status_changes_early_gives_up_only_that_wait(emulator, client):
    emulator.user(NIN_SILENT, "never-answer")
    emulator.user(NIN_APPROVE, "approve", afterMs=800)

    async def flow():
        left = await client.start_safe_conversation(NIN_SILENT)
        other = await client.start_safe_conversation(NIN_APPROVE)
        shared = safeconv.CancelHandle()
        other_wait = asyncio.ensure_future(client.wait(other, cancel=shared))
        async for state in client.status_changes(left, cancel=shared):
            first = state
            break
        # The wait given up cancels its session at Signicat, in the background.
        await until(lambda: emulator.session(left.id)["status"] == "CANCELLED")
        return first, shared, await other_wait

    first, shared, other_outcome = run(flow())
    assert first.status is safeconv.SessionStatus.WAITING_FOR_USER
    assert not shared.is_cancelled()
    assert other_outcome.is_success()


def test_status_changes_close_when_their_block_ends(emulator, client):
    emulator.user(NIN_SILENT, "never-answer")

    async def flow():
        session = await client.start_safe_conversation(NIN_SILENT)
        with pytest.raises(KeyError):
            async with client.status_changes(session) as changes:
                async for _ in changes:
                    raise KeyError("the agent closed the window")
        # aclose has returned: the wait is over, and the cancel it left is under way.
        assert await client.wait_for_cleanup(timedelta(seconds=5))
        assert [state async for state in changes] == []
        return session, changes

    session, changes = run(flow())
    assert emulator.session(session.id)["status"] == "CANCELLED"
    assert changes.outcome is None
    assert repr(changes) == "<StatusChanges ended>"


# --- SessionStatus ---------------------------------------------------------------------------


def test_session_status_is_an_enum():
    Status = safeconv.SessionStatus
    assert issubclass(Status, enum.Enum)
    assert [s.name for s in Status] == [
        "CREATED", "WAITING_FOR_USER", "SUCCESS", "ERROR", "ABORT", "CANCELLED", "EXPIRED", "INVALID",
    ]
    assert Status("SUCCESS") is Status.SUCCESS is Status["SUCCESS"]
    assert Status.SUCCESS != Status.ERROR and Status.SUCCESS == Status.SUCCESS
    assert {Status.SUCCESS: 1}[Status("SUCCESS")] == 1
    assert repr(Status.WAITING_FOR_USER) == "<SessionStatus.WAITING_FOR_USER: 'WAITING_FOR_USER'>"
    # Values are the core's spellings, and finality is the core's rule.
    for status in Status:
        assert safeconv.status_name(status) == status.value
        assert status.is_final == safeconv.status_is_final(status)
    assert {s for s in Status if s.is_final} == {
        Status.SUCCESS, Status.ERROR, Status.ABORT, Status.CANCELLED, Status.EXPIRED, Status.INVALID,
    }
    assert Status.SUCCESS.is_success() and not Status.SUCCESS.is_error()
    with pytest.raises(TypeError):
        safeconv.status_name("SUCCESS")


def test_unknown_statuses_are_kept():
    Status = safeconv.SessionStatus
    unknown = Status("PENDING_REVIEW")
    assert isinstance(unknown, Status)
    assert unknown is Status("PENDING_REVIEW")
    assert unknown.name == "UNKNOWN" and unknown.value == "PENDING_REVIEW" and unknown.is_unknown()
    assert unknown not in list(Status) and not Status.SUCCESS.is_unknown()
    assert not unknown.is_final
    assert safeconv.status_name(unknown) == "PENDING_REVIEW"
    assert repr(unknown) == "<SessionStatus.UNKNOWN: 'PENDING_REVIEW'>"


class OneSession(http.server.BaseHTTPRequestHandler):
    """Signicat answering `GET /auth/rest/sessions/{id}` with a status added after this SDK."""

    def do_GET(self):
        body = json.dumps({"id": self.path.rsplit("/", 1)[1], "status": "PENDING_REVIEW"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class StaticToken(safeconv.TokenProvider):
    def access_token(self):
        return safeconv.AccessToken(token="static-test-token")


def test_an_unknown_status_from_the_wire():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OneSession)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        config = safeconv.ClientConfig(account_id=ACCOUNT_ID, base_url=f"http://127.0.0.1:{server.server_port}")
        client = safeconv.SafeconvClient.with_token_provider(config, StaticToken())
        session = run(client.get_session("s-new"))
    finally:
        server.shutdown()
        server.server_close()
    assert session.status is safeconv.SessionStatus("PENDING_REVIEW")
    assert session.status.is_unknown() and not session.status.is_final
    assert safeconv.session_outcome(session) is None


# --- reprs and error wording -----------------------------------------------------------------


def test_records_print_their_fields_never_a_nin(emulator, client):
    info = safeconv.check_nin(NIN_APPROVE)
    assert repr(info) == "NinInfo(masked='010180*****', kind=<NinKind.BIRTH_NUMBER: 0>, check_digits_valid=True)"
    assert repr(safeconv.NinRules(allow_synthetic=True)) == "NinRules(allow_synthetic=True, allow_invalid_check_digits=False)"
    assert "language='nb'" in repr(safeconv.StartOptions(language="nb"))
    assert repr(safeconv.CancelHandle()) == "CancelHandle(cancelled=False)"
    assert repr(client) == f"SafeconvClient(account_id={ACCOUNT_ID!r}, base_url={client.base_url()!r})"
    assert "safeconv-demo-secret" not in repr(client)

    emulator.user(NIN_APPROVE, "approve", afterMs=100)

    async def flow():
        session = await client.start_safe_conversation(NIN_APPROVE)
        return session, await client.wait(session)

    session, outcome = run(flow())
    assert repr(session).startswith(f'Session {{ id: "{session.id}", status: ')
    assert repr(outcome).startswith("Success { subject: Subject {") and "010180*****" in repr(outcome)
    for text in (repr(session), str(session), repr(outcome), str(outcome)):
        assert NIN_APPROVE not in text


def test_every_record_has_a_repr_of_its_own():
    interfaces = {"StatusListener", "TokenProvider", "LogSink", "LoggingSink"}  # users implement them
    outcomes = [getattr(safeconv.Outcome, case) for case in ("SUCCESS", "ABORTED", "CANCELLED", "EXPIRED", "FAILED")]
    classes = [getattr(safeconv, name) for name in safeconv.__all__ if name not in interfaces | {"Outcome"}]
    for value in classes + outcomes:
        if isinstance(value, type) and not issubclass(value, (BaseException, enum.Enum)):
            assert value.__repr__ is not object.__repr__, value


def test_errors_print_the_core_wording(client):
    with pytest.raises(safeconv.SafeconvError.InvalidInput) as caught:
        safeconv.SafeconvClient(safeconv.ClientConfig(account_id="a-1", client_id="id", client_secret="s", base_url="http://example.com"))
    error = caught.value
    assert str(error) == error.reason and str(error).startswith("invalid base_url: ")
    assert repr(error) == f"SafeconvError.InvalidInput(field='base_url', message={error.reason!r})"

    with pytest.raises(safeconv.SafeconvError.InvalidNin) as caught:
        safeconv.check_nin(NIN_FAIL[:-1] + "9")
    assert str(caught.value) == caught.value.reason
    assert NIN_FAIL[:-1] not in repr(caught.value) and "reason_code='check-digits'" in repr(caught.value)

    with pytest.raises(safeconv.SafeconvError.Api) as caught:
        run(client.get_session("no-such-session"))
    api = caught.value
    assert str(api).startswith("Signicat API error (HTTP 404)") and f"traceId {api.trace_id}" in str(api)
    assert repr(api).startswith(f"SafeconvError.Api(http_status=404, code={api.code!r}, trace_id={api.trace_id!r}")

    made_here = safeconv.SafeconvError.Authentication("backend_refused", "agent is not signed in", None)
    assert str(made_here) == "authentication failed: backend_refused (agent is not signed in)"

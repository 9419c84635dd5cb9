"""The installed `safeconv` package against the Signicat emulator, over real HTTP."""

import asyncio
import logging
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

import safeconv
from conftest import (
    NIN_APPROVE,
    NIN_DECLINE,
    NIN_FAIL,
    NIN_NO_APP,
    NIN_SILENT,
    config,
)


class Recorder(safeconv.StatusListener):
    """Collects the statuses a wait reports, in order."""

    def __init__(self):
        self.statuses = []
        self.sessions = []
        self.threads = set()

    def on_status(self, session):
        self.statuses.append(safeconv.status_name(session.status))
        self.sessions.append(session)
        self.threads.add(threading.get_ident())


def run(coro):
    return asyncio.run(coro)


# --- happy path -------------------------------------------------------------------------------


def test_happy_path_with_binding_message(emulator, client):
    emulator.user(NIN_APPROVE, "approve", afterMs=300)

    async def flow():
        session = await client.start_safe_conversation(NIN_APPROVE)
        assert session.id
        assert session.binding_message and session.binding_message.strip()
        assert isinstance(session.status, safeconv.SessionStatus)
        assert not safeconv.status_is_final(session.status)
        assert session.expires_at is not None
        assert session.expires_at > datetime.now(timezone.utc)
        outcome = await client.wait(session)
        return session, outcome

    session, outcome = run(flow())
    assert outcome.is_success()
    subject = outcome.subject
    assert subject.name
    assert subject.nin is not None and subject.nin.value == NIN_APPROVE
    # Printing never shows the NIN.
    for text in (str(outcome), repr(outcome), str(subject), repr(subject.nin), str(session)):
        assert NIN_APPROVE not in text, "NIN leaked into a printed value"
    assert "010180*****" in str(subject.nin)


def test_start_options_are_sent(emulator, client):
    emulator.user(NIN_APPROVE, "approve", afterMs=200)

    async def flow():
        options = safeconv.StartOptions(language="nb", external_reference="call-4711", attributes=["name", "nin"])
        session = await client.start_safe_conversation(NIN_APPROVE, options)
        assert session.external_reference == "call-4711"
        return await client.wait(session)

    assert run(flow()).is_success()


# --- every final status -----------------------------------------------------------------------


def test_declined_is_aborted(emulator, client):
    emulator.user(NIN_DECLINE, "decline", afterMs=200)

    async def flow():
        return await client.wait(await client.start_safe_conversation(NIN_DECLINE))

    assert run(flow()).is_aborted()


def test_declined_as_aborted_is_aborted(emulator, client):
    # Signicat's .NET SDK spells the decline ABORTED: the same outcome.
    emulator.user(NIN_DECLINE, "decline-aborted", afterMs=200)

    async def flow():
        return await client.wait(await client.start_safe_conversation(NIN_DECLINE))

    assert run(flow()).is_aborted()


def test_failed_keeps_the_error_code(emulator, client):
    emulator.user(NIN_FAIL, "fail", afterMs=200, code="authentication_failed")

    async def flow():
        return await client.wait(await client.start_safe_conversation(NIN_FAIL))

    outcome = run(flow())
    assert outcome.is_failed()
    assert outcome.status.is_error()
    assert outcome.error.code == "authentication_failed"


def test_no_app_fails_with_its_code(emulator, client):
    emulator.user(NIN_NO_APP, "no-app")

    async def flow():
        return await client.wait(await client.start_safe_conversation(NIN_NO_APP))

    outcome = run(flow())
    assert outcome.is_failed()
    assert outcome.error.code == "no_bankid_app"


def test_expired(emulator, client):
    emulator.user(NIN_SILENT, "never-answer")
    emulator.config(minSessionLifetimeSecs=1)

    async def flow():
        options = safeconv.StartOptions(session_lifetime=1)
        session = await client.start_safe_conversation(NIN_SILENT, options)
        return await client.wait(session)

    assert run(flow()).is_expired()


def test_cancel_session_ends_in_cancelled(emulator, client):
    emulator.user(NIN_SILENT, "never-answer")

    async def flow():
        session = await client.start_safe_conversation(NIN_SILENT)
        cancelled = await client.cancel_session(session.id)
        assert cancelled.status.is_cancelled()
        # Idempotent, and a wait on it returns at once.
        again = await client.cancel_session(session.id)
        assert again.status.is_cancelled()
        return await client.wait(again)

    assert run(flow()).is_cancelled()


def test_get_session_and_outcome_helper(emulator, client):
    emulator.user(NIN_APPROVE, "approve", afterMs=100)

    async def flow():
        session = await client.start_safe_conversation(NIN_APPROVE)
        assert safeconv.session_outcome(session) is None
        await asyncio.sleep(0.4)
        return await client.get_session(session.id)

    current = run(flow())
    assert current.status.is_success()
    assert safeconv.session_outcome(current).is_success()


# --- cancel during wait -----------------------------------------------------------------------


def test_cancel_handle_during_wait(emulator, client):
    emulator.user(NIN_SILENT, "never-answer")

    async def flow():
        session = await client.start_safe_conversation(NIN_SILENT)
        handle = safeconv.CancelHandle()
        recorder = Recorder()
        waiting = asyncio.ensure_future(client.wait(session, recorder, None, handle))
        await asyncio.sleep(0.4)
        assert not waiting.done()
        started = time.monotonic()
        handle.cancel()
        outcome = await waiting
        return session, handle, recorder, outcome, time.monotonic() - started

    session, handle, recorder, outcome, took = run(flow())
    assert handle.is_cancelled()
    assert outcome.is_cancelled()
    assert took < 5
    assert recorder.statuses[-1] == "CANCELLED"


def test_cancelling_the_task_cancels_the_session(emulator, client):
    emulator.user(NIN_SILENT, "never-answer")

    async def flow():
        session = await client.start_safe_conversation(NIN_SILENT)
        waiting = asyncio.ensure_future(client.wait(session))
        await asyncio.sleep(0.4)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        # The core cancels the abandoned session at Signicat in the background.
        for _ in range(100):
            current = await client.get_session(session.id)
            if current.status.is_cancelled():
                return current
            await asyncio.sleep(0.05)
        return current

    assert run(flow()).status.is_cancelled()


class Records(logging.Handler):
    """Collects what reaches Python's logging."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def sdk_logs():
    """The SDK's records as Python logging records, collected below the `safeconv` logger."""
    handler = Records()
    logger = logging.getLogger("safeconv")
    logger.addHandler(handler)
    previous = logger.level
    yield handler, logger
    safeconv.set_log_sink(None, safeconv.LogLevel.ERROR)
    logger.removeHandler(handler)
    logger.setLevel(previous)


async def abandoned_session_id(handler, seconds=5.0):
    """The id of the session the core cancels because its start was given up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for record in handler.records:
            if record.getMessage().startswith("cancelling an abandoned session"):
                return record.safeconv_fields["session_id"]
        await asyncio.sleep(0.02)
    pytest.fail("the core never cancelled the abandoned session")


def test_cancelling_the_task_during_the_create_cancels_the_session(emulator, client, sdk_logs):
    handler, logger = sdk_logs
    logger.setLevel(logging.INFO)
    safeconv.install_logging()
    emulator.user(NIN_SILENT, "never-answer")
    # The emulator makes the session at once and holds its answer back.
    emulator.fault("create-session", "slow", delayMs=1500)

    async def flow():
        before = emulator.counters()["createRequests"]
        starting = asyncio.ensure_future(client.start_safe_conversation(NIN_SILENT))
        while emulator.counters()["createRequests"] == before:
            await asyncio.sleep(0.01)
        starting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await starting
        session_id = await abandoned_session_id(handler)
        assert await client.wait_for_cleanup(timedelta(seconds=5))
        return session_id

    session_id = run(flow())
    assert emulator.session(session_id)["status"] == "CANCELLED"


def test_cancel_handle_stops_a_start(emulator, client):
    emulator.user(NIN_SILENT, "never-answer")
    emulator.fault("create-session", "slow", delayMs=1500)

    async def flow():
        handle = safeconv.CancelHandle()
        starting = asyncio.ensure_future(client.start_safe_conversation(NIN_SILENT, cancel=handle))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        handle.cancel()
        with pytest.raises(safeconv.SafeconvError.Cancelled):
            await starting
        took = time.monotonic() - started
        assert await client.wait_for_cleanup(timedelta(seconds=5))
        return took

    assert run(flow()) < 1.0

    # Cancelled beforehand: nothing is sent.
    before = emulator.counters()["createRequests"]
    handle = safeconv.CancelHandle()
    handle.cancel()
    with pytest.raises(safeconv.SafeconvError.Cancelled):
        run(client.start_safe_conversation(NIN_SILENT, cancel=handle))
    assert emulator.counters()["createRequests"] == before


def test_timeout_cancels_and_reports(emulator, client):
    emulator.user(NIN_SILENT, "never-answer")

    async def flow():
        session = await client.start_safe_conversation(NIN_SILENT)
        return await client.wait(session, None, timedelta(milliseconds=300))

    assert run(flow()).is_cancelled()


# --- listener events in order -----------------------------------------------------------------


def test_listener_events_in_order(emulator, client):
    emulator.user(NIN_APPROVE, "approve", afterMs=800)

    async def flow():
        session = await client.start_safe_conversation(NIN_APPROVE)
        recorder = Recorder()
        outcome = await client.wait(session, listener=recorder)
        return session, recorder, outcome

    session, recorder, outcome = run(flow())
    assert outcome.is_success()
    assert recorder.statuses == ["WAITING_FOR_USER", "SUCCESS"]
    # On a worker thread, never the one that ran the event loop (this one).
    assert recorder.threads and threading.get_ident() not in recorder.threads
    assert all(s.id == session.id for s in recorder.sessions)
    assert recorder.sessions[-1].subject is not None


def test_resume_by_id(emulator, client):
    emulator.user(NIN_APPROVE, "approve", afterMs=500)

    async def flow():
        session = await client.start_safe_conversation(NIN_APPROVE)
        # A second client, as after a restart, picks the session up by id.
        other = safeconv.SafeconvClient(config(emulator))
        recorder = Recorder()
        outcome = await other.resume(session.id, listener=recorder)
        return recorder, outcome

    recorder, outcome = run(flow())
    assert outcome.is_success()
    assert recorder.statuses[-1] == "SUCCESS"


# --- error mapping ----------------------------------------------------------------------------


def test_invalid_nin(client):
    with pytest.raises(safeconv.SafeconvError.InvalidNin) as caught:
        run(client.start_safe_conversation("17029012345"))
    assert caught.value.reason_code == "check-digits"
    assert "17029012345" not in str(caught.value)

    with pytest.raises(safeconv.SafeconvError.InvalidNin) as caught:
        safeconv.check_nin("12345")
    assert caught.value.reason_code == "length"


def test_check_nin():
    info = safeconv.check_nin(NIN_APPROVE)
    assert info.kind == safeconv.NinKind.BIRTH_NUMBER
    assert info.masked == "010180*****"
    assert info.check_digits_valid
    lenient = safeconv.check_nin("17029012345", safeconv.NinRules(allow_invalid_check_digits=True))
    assert not lenient.check_digits_valid
    assert safeconv.mask_nin(NIN_APPROVE) == "010180*****"


def test_bad_credentials(emulator):
    client = safeconv.SafeconvClient(config(emulator, client_secret="wrong-secret"))
    with pytest.raises(safeconv.SafeconvError.Authentication) as caught:
        run(client.start_safe_conversation(NIN_APPROVE))
    assert caught.value.error == "invalid_client"
    assert caught.value.http_status == 401
    assert "wrong-secret" not in str(caught.value)


def test_api_error_keeps_status_code_and_trace_id(client):
    with pytest.raises(safeconv.SafeconvError.Api) as caught:
        run(client.get_session("no-such-session"))
    error = caught.value
    assert error.http_status == 404
    assert error.trace_id


def test_server_error_on_create(emulator, client):
    emulator.fault("create-session", "internal-error", times=1)
    with pytest.raises(safeconv.SafeconvError.Api) as caught:
        run(client.start_safe_conversation(NIN_APPROVE))
    assert caught.value.http_status == 500


def test_invalid_config():
    with pytest.raises(safeconv.SafeconvError.InvalidInput) as caught:
        safeconv.SafeconvClient(
            safeconv.ClientConfig(
                account_id="a-1", client_id="id", client_secret="s", base_url="http://example.com"
            )
        )
    assert caught.value.field == "base_url"
    with pytest.raises(safeconv.SafeconvError.InvalidInput) as caught:
        safeconv.SafeconvClient(safeconv.ClientConfig(account_id="a-1"))
    assert caught.value.field == "credentials"


def test_config_never_prints_the_secret(emulator):
    cfg = config(emulator)
    for text in (str(cfg), repr(cfg)):
        assert "safeconv-demo-secret" not in text
    token = safeconv.AccessToken(token="eyJ-very-secret", expires_in=timedelta(seconds=60))
    assert "eyJ-very-secret" not in str(token)


# --- token provider ---------------------------------------------------------------------------


class BackendTokens(safeconv.TokenProvider):
    def __init__(self, emulator):
        self.emulator = emulator
        self.calls = 0

    def access_token(self):
        self.calls += 1
        answer = self.emulator.token()
        return safeconv.AccessToken(token=answer["access_token"], expires_in=timedelta(seconds=answer["expires_in"]))


class RefusingTokens(safeconv.TokenProvider):
    def access_token(self):
        raise safeconv.SafeconvError.Authentication("backend_refused", "agent is not signed in", None)


class BrokenTokens(safeconv.TokenProvider):
    def access_token(self):
        raise RuntimeError("backend unreachable")


def provider_config(emulator):
    return config(emulator, client_id=None, client_secret=None)


def test_token_provider(emulator):
    emulator.user(NIN_APPROVE, "approve", afterMs=200)
    provider = BackendTokens(emulator)
    client = safeconv.SafeconvClient.with_token_provider(provider_config(emulator), provider)

    async def flow():
        return await client.wait(await client.start_safe_conversation(NIN_APPROVE))

    assert run(flow()).is_success()
    assert provider.calls == 1


def test_token_provider_errors(emulator):
    refusing = safeconv.SafeconvClient.with_token_provider(provider_config(emulator), RefusingTokens())
    with pytest.raises(safeconv.SafeconvError.Authentication) as caught:
        run(refusing.start_safe_conversation(NIN_APPROVE))
    assert caught.value.error == "backend_refused"

    broken = safeconv.SafeconvClient.with_token_provider(provider_config(emulator), BrokenTokens())
    with pytest.raises(safeconv.SafeconvError.Authentication) as caught:
        run(broken.start_safe_conversation(NIN_APPROVE))
    assert caught.value.error == "token_provider_failed"

    with pytest.raises(safeconv.SafeconvError.InvalidInput):
        safeconv.SafeconvClient.with_token_provider(config(emulator), RefusingTokens())


# --- logs ----------------------------------------------------------------------------------


def test_logs_reach_python_logging_by_level_without_nins(emulator, client, sdk_logs):
    handler, logger = sdk_logs
    emulator.user(NIN_APPROVE, "approve", afterMs=200)

    async def flow():
        return await client.wait(await client.start_safe_conversation(NIN_APPROVE))

    logger.setLevel(logging.INFO)
    safeconv.install_logging()
    assert run(flow()).is_success()
    info = list(handler.records)
    assert any(r.getMessage().startswith("session created") for r in info), [r.getMessage() for r in info]
    assert all(r.levelno >= logging.INFO for r in info)
    assert all(r.name.startswith("safeconv.") for r in info)
    created = next(r for r in info if r.getMessage().startswith("session created"))
    assert created.levelno == logging.INFO and created.name == "safeconv.client"
    assert "session_id=" in created.getMessage() and created.safeconv_fields["session_id"]

    handler.records.clear()
    logger.setLevel(logging.DEBUG)
    safeconv.install_logging()
    assert run(flow()).is_success()
    debug = [r for r in handler.records if r.levelno == logging.DEBUG]
    assert debug, "no debug records at DEBUG"
    # The start names the NIN, masked.
    assert any("010180*****" in r.getMessage() for r in debug)
    for record in handler.records:
        assert NIN_APPROVE not in record.getMessage()
        assert all(NIN_APPROVE not in value for value in record.safeconv_fields.values())

    # Stopped: nothing more arrives.
    handler.records.clear()
    safeconv.set_log_sink(None, safeconv.LogLevel.TRACE)
    assert run(flow()).is_success()
    assert handler.records == []


# --- many at once -----------------------------------------------------------------------------


def test_twenty_concurrent_sessions(emulator, client):
    emulator.user(NIN_APPROVE, "approve", afterMs=300)

    async def one():
        session = await client.start_safe_conversation(NIN_APPROVE)
        recorder = Recorder()
        outcome = await client.wait(session, recorder)
        return session.id, outcome, recorder.statuses

    async def flow():
        return await asyncio.gather(*(one() for _ in range(20)))

    started = time.monotonic()
    results = run(flow())
    assert len({session_id for session_id, _, _ in results}) == 20
    assert all(outcome.is_success() for _, outcome, _ in results)
    assert all(statuses[-1] == "SUCCESS" for _, _, statuses in results)
    assert time.monotonic() - started < 20

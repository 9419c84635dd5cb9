"""An agent app through safeconv-relay: base URL = the relay, token provider = the agent's own
key. The app never holds the Signicat secret; the relay (started here, in front of the same
emulator) does."""

import asyncio
import json
import os
import pathlib
import subprocess
import tempfile
from datetime import timedelta

import pytest

import safeconv
from conftest import ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, NIN_DECLINE, NIN_SILENT

ROOT = pathlib.Path(__file__).resolve().parents[3]
# Valid fødselsnummer used only here (the relay limits creates per number).
NIN_AGENT_APP = "02018000000"


def relay_binary() -> str:
    binary = os.environ.get("SAFECONV_RELAY_BIN") or str(ROOT / "target" / "debug" / "safeconv-relay")
    if not os.path.exists(binary):
        pytest.fail(f"{binary} is missing: run scripts/test-python.sh (it builds safeconv-relay)")
    return binary


def new_agent_key(agent: str):
    out = subprocess.run([relay_binary(), "new-agent-key", agent], check=True, capture_output=True, text=True)
    key, line = out.stdout.splitlines()
    return key, line


class Relay:
    def __init__(self, emulator):
        self.dir = tempfile.TemporaryDirectory(prefix="safeconv-python-relay-")
        path = pathlib.Path(self.dir.name)
        self.keys = {}
        lines = []
        for agent in ("anna.agent", "bjorn.agent"):
            key, line = new_agent_key(agent)
            self.keys[agent] = key
            lines.append(line)
        (path / "agents.keys").write_text("\n".join(lines) + "\n")
        (path / "relay.toml").write_text("[policy]\nmin_poll_interval_ms = 200\n")
        env = dict(
            os.environ,
            SAFECONV_BASE_URL=emulator.url,
            SAFECONV_ACCOUNT_ID=ACCOUNT_ID,
            SAFECONV_CLIENT_ID=CLIENT_ID,
            SAFECONV_CLIENT_SECRET=CLIENT_SECRET,
        )
        self.process = subprocess.Popen(
            [
                relay_binary(),
                "--listen", "127.0.0.1:0",
                "--config", str(path / "relay.toml"),
                "--agent-keys", str(path / "agents.keys"),
                "--database-url", f"sqlite://{path / 'relay.db'}",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.process.stdout.readline().strip()
        assert line.startswith("SAFECONV_RELAY_URL="), line
        self.url = line.split("=", 1)[1]
        self.database_url = f"sqlite://{path / 'relay.db'}"

    def stop(self):
        self.process.kill()
        self.process.wait()
        self.dir.cleanup()

    def audit(self):
        out = subprocess.run(
            [relay_binary(), "audit", "export", "--database-url", self.database_url],
            check=True, capture_output=True, text=True,
        )
        return [json.loads(line) for line in out.stdout.splitlines()]


@pytest.fixture(scope="module")
def relay(emulator):
    relay = Relay(emulator)
    yield relay
    relay.stop()


class AgentKey(safeconv.TokenProvider):
    """The agent's own credential for the relay, as an agent app holds it."""

    def __init__(self, key: str):
        self.key = key

    def access_token(self):
        return safeconv.AccessToken(token=self.key, expires_in=None)


def agent_client(relay, agent: str):
    # No client id or secret: the app has only the agent's key; the account id is ignored.
    config = safeconv.ClientConfig(account_id="ignored-by-the-relay", base_url=relay.url,
                                   poll_interval=timedelta(milliseconds=100))
    return safeconv.SafeconvClient.with_token_provider(config, AgentKey(relay.keys[agent]))


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_an_agent_app_verifies_a_caller_through_the_relay(emulator, relay):
    emulator.user(NIN_AGENT_APP, "approve", afterMs=400)
    client = agent_client(relay, "anna.agent")

    async def flow():
        session = await client.start_safe_conversation(NIN_AGENT_APP)
        assert session.binding_message
        return session, await client.wait(session)

    session, outcome = run(flow())
    assert outcome.is_success()
    assert outcome.subject.nin.value == NIN_AGENT_APP
    # Created at Signicat by the relay, and in its audit log under the agent's name.
    assert emulator.session(session.id)["status"] == "SUCCESS"
    records = relay.audit()
    created = [r for r in records if r["action"] == "created" and r["sessionId"] == session.id]
    assert created and created[0]["agentId"] == "anna.agent"
    assert created[0]["ninMasked"] == NIN_AGENT_APP[:6] + "*****"
    assert all(NIN_AGENT_APP not in json.dumps(r) for r in records)


def test_another_agent_cannot_read_or_cancel_it(emulator, relay):
    emulator.user(NIN_SILENT, "never-answer")
    anna = agent_client(relay, "anna.agent")
    bjorn = agent_client(relay, "bjorn.agent")
    session = run(anna.start_safe_conversation(NIN_SILENT))
    with pytest.raises(safeconv.SafeconvError.Api) as caught:
        run(bjorn.get_session(session.id))
    assert caught.value.http_status == 404
    assert run(anna.get_session(session.id)).id == session.id
    cancel = safeconv.CancelHandle()
    cancel.cancel()
    outcome = run(anna.wait(session, None, None, cancel))
    assert not outcome.is_success()
    assert emulator.session(session.id)["status"] == "CANCELLED"


def test_a_signicat_token_is_not_an_agent_credential(emulator, relay):
    token = emulator.token()["access_token"]
    config = safeconv.ClientConfig(account_id="x", base_url=relay.url)
    client = safeconv.SafeconvClient.with_token_provider(config, AgentKey(token))
    with pytest.raises(safeconv.SafeconvError) as caught:
        run(client.start_safe_conversation(NIN_DECLINE))
    assert "401" in str(caught.value) or getattr(caught.value, "http_status", None) == 401
    assert not [r for r in relay.audit() if r["ninMasked"] == NIN_DECLINE[:6] + "*****"]

"""Fixtures for the Python binding tests: the emulator (its URL comes from
SAFECONV_EMULATOR_URL, set by scripts/test-python.sh), its admin API, and clients."""

import json
import os
import urllib.request
from datetime import timedelta

import pytest

import safeconv

CLIENT_ID = "safeconv-demo-client"
CLIENT_SECRET = "safeconv-demo-secret"
ACCOUNT_ID = "a-spge-emulator"

# Valid fødselsnummer (correct check digits); their behaviour is set per test.
NIN_APPROVE = "01018010018"
NIN_DECLINE = "17029010021"
NIN_FAIL = "15058510170"
NIN_SILENT = "24047510003"
NIN_NO_APP = "31129910065"


class Emulator:
    """The emulator's admin API (JSON over plain HTTP on loopback)."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def _call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode() or "null"
            return json.loads(text)

    def user(self, nin: str, behaviour: str, **fields):
        self._call("PUT", f"/emulator/users/{nin}", {"behaviour": behaviour, **fields})

    def fault(self, endpoint: str, kind: str, times: int = 1, **fields):
        self._call("POST", "/emulator/faults", {"endpoint": endpoint, "fault": {"kind": kind, **fields}, "times": times})

    def clear_faults(self):
        self._call("DELETE", "/emulator/faults")

    def config(self, **settings):
        return self._call("PUT", "/emulator/config", settings)

    def session(self, session_id: str):
        return self._call("GET", f"/emulator/sessions/{session_id}")

    def counters(self) -> dict:
        return self._call("GET", "/emulator/counters")

    def token(self) -> dict:
        """A token from the emulator's token endpoint, as a backend would fetch it."""
        form = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "scope": "signicat-api",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            }
        ).encode()
        request = urllib.request.Request(self.url + "/auth/open/connect/token", data=form, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())


@pytest.fixture(scope="session")
def emulator() -> Emulator:
    url = os.environ.get("SAFECONV_EMULATOR_URL")
    if not url:
        pytest.fail("SAFECONV_EMULATOR_URL is not set: run scripts/test-python.sh (it starts the emulator)")
    return Emulator(url)


def config(emulator: Emulator, **overrides) -> "safeconv.ClientConfig":
    fields = dict(
        account_id=ACCOUNT_ID,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        base_url=emulator.url,
        poll_interval=timedelta(milliseconds=50),
    )
    fields.update(overrides)
    return safeconv.ClientConfig(**fields)


@pytest.fixture
def client(emulator: Emulator) -> "safeconv.SafeconvClient":
    emulator.clear_faults()
    return safeconv.SafeconvClient(config(emulator))

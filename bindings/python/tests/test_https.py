"""HTTPS as production uses it, from Python: the emulator over real TLS with its test CA added,
the same call without the CA (unknown issuer), a certificate for another host name, and the
loopback CONNECT proxy with and without the right credentials."""

import asyncio
import json
import os
import pathlib
import subprocess
import urllib.request
from datetime import timedelta
from typing import Dict, Iterator

import pytest

import safeconv
from conftest import ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, NIN_APPROVE

ROOT = pathlib.Path(__file__).resolve().parents[3]
PROXY_USER, PROXY_PASSWORD = "py-agent", "py-proxy-secret"


def emulator_binary() -> str:
    binary = os.environ.get("SAFECONV_EMULATOR_BIN") or str(ROOT / "target" / "debug" / "safeconv-emulator")
    if not os.path.exists(binary):
        pytest.fail(f"{binary} is missing: run scripts/test-python.sh (it builds the emulator)")
    return binary


class HttpsEmulator:
    """A `safeconv-emulator --tls` of its own, with the lines it prints (URL, CA file, proxy)."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [emulator_binary(), "--port", "0", "--tls", "--approve-after-ms", "300", *args],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        self.lines: Dict[str, str] = {}
        assert self.process.stdout is not None
        while "SAFECONV_EMULATOR_URL" not in self.lines:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("the HTTPS emulator did not start")
            name, _, value = line.strip().partition("=")
            self.lines[name] = value
        self.url = self.lines["SAFECONV_EMULATOR_URL"]
        self.ca_file = self.lines["SAFECONV_EMULATOR_CA"]

    def proxy_counters(self) -> dict:
        with urllib.request.urlopen(self.lines["SAFECONV_PROXY_URL"] + "/proxy/counters", timeout=10) as answer:
            return json.loads(answer.read())

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture(scope="module")
def behind_proxy() -> Iterator[HttpsEmulator]:
    emulator = HttpsEmulator("--proxy", "--proxy-credentials", f"{PROXY_USER}:{PROXY_PASSWORD}")
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def other_host() -> Iterator[HttpsEmulator]:
    emulator = HttpsEmulator("--tls-certificate", "other-host")
    yield emulator
    emulator.stop()


def client(emulator: HttpsEmulator, **settings: object) -> safeconv.SafeconvClient:
    return safeconv.SafeconvClient(safeconv.ClientConfig(
        account_id=ACCOUNT_ID, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        base_url=emulator.url, poll_interval=timedelta(milliseconds=100),
        **settings,  # type: ignore[arg-type]
    ))


async def verify(client: safeconv.SafeconvClient) -> safeconv.Outcome:
    session = await client.start_safe_conversation(NIN_APPROVE)
    assert session.binding_message
    return await client.wait(session, timeout=timedelta(seconds=20))


def transport_error(call) -> safeconv.SafeconvError:
    with pytest.raises(safeconv.SafeconvError) as raised:
        asyncio.run(call)
    error = raised.value
    assert isinstance(error, safeconv.SafeconvError.Transport), repr(error)
    return error


def test_the_flow_over_https_with_the_test_ca_from_a_file_or_as_pem(behind_proxy: HttpsEmulator) -> None:
    outcome = asyncio.run(verify(client(behind_proxy, ca_files=[behind_proxy.ca_file])))
    assert isinstance(outcome, safeconv.Outcome.SUCCESS)
    pem = pathlib.Path(behind_proxy.ca_file).read_text()
    only_ours = client(behind_proxy, ca_pems=[pem], trust_roots=safeconv.TrustRoots.ADDED_ONLY)
    assert isinstance(asyncio.run(verify(only_ours)), safeconv.Outcome.SUCCESS)


def test_without_the_ca_the_server_is_an_unknown_issuer(behind_proxy: HttpsEmulator) -> None:
    error = transport_error(verify(client(behind_proxy)))
    assert error.kind == safeconv.TransportErrorKind.TLS
    assert "unknown issuer" in str(error), str(error)


def test_a_certificate_for_another_host_name_is_refused(other_host: HttpsEmulator) -> None:
    error = transport_error(verify(client(other_host, ca_files=[other_host.ca_file])))
    assert error.kind == safeconv.TransportErrorKind.TLS
    assert "host name" in str(error), str(error)


def test_the_proxy_carries_the_calls_and_wrong_credentials_are_its_error(behind_proxy: HttpsEmulator) -> None:
    proxy = behind_proxy.lines["SAFECONV_PROXY_URL"]
    before = behind_proxy.proxy_counters()["tunnelsOpened"]
    through = client(behind_proxy, ca_files=[behind_proxy.ca_file], proxy_url=proxy,
                     proxy_username=PROXY_USER, proxy_password=PROXY_PASSWORD, no_proxy="")
    assert isinstance(asyncio.run(verify(through)), safeconv.Outcome.SUCCESS)
    assert behind_proxy.proxy_counters()["tunnelsOpened"] > before

    wrong = client(behind_proxy, ca_files=[behind_proxy.ca_file], proxy_url=proxy,
                   proxy_username=PROXY_USER, proxy_password="not-the-password", no_proxy="")
    error = transport_error(verify(wrong))
    assert error.kind == safeconv.TransportErrorKind.PROXY
    assert proxy.removeprefix("http://") in str(error), str(error)
    for text in (str(error), repr(error), repr(wrong)):
        assert "not-the-password" not in text

    bypass = client(behind_proxy, ca_files=[behind_proxy.ca_file], proxy_url=proxy,
                    proxy_username=PROXY_USER, proxy_password="not-the-password", no_proxy="127.0.0.1")
    opened = behind_proxy.proxy_counters()["tunnelsOpened"]
    assert isinstance(asyncio.run(verify(bypass)), safeconv.Outcome.SUCCESS)
    assert behind_proxy.proxy_counters()["tunnelsOpened"] == opened, "no_proxy bypasses the proxy"

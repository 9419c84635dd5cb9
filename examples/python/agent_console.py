"""A call-centre agent's console: type the caller's national identity number, read the binding
message aloud, watch the status change while the caller confirms in the BankID app, and see who
was verified. Type ``c`` and Enter while waiting to cancel.

An agent's app holds neither the Signicat client secret nor a Signicat token: it talks to
safeconv-relay with the agent's own credential. Configuration from the environment:
SAFECONV_RELAY_URL (the relay) and SAFECONV_AGENT_KEY (this agent's relay key; with an identity
provider, the signed-in agent's JWT instead). Needs the package: ``pip install safeconv-*.whl``.
"""

import asyncio
import os
import sys
import threading
from datetime import timedelta
from typing import Optional

import safeconv


def env(name: str) -> Optional[str]:
    return os.environ.get(name) or None


class AgentKey(safeconv.TokenProvider):
    """The agent's own credential, as the token the SDK sends the relay."""

    def __init__(self, key: str) -> None:
        self.key = key

    def access_token(self) -> safeconv.AccessToken:
        return safeconv.AccessToken(token=self.key, expires_in=None)


def client() -> safeconv.SafeconvClient:
    relay = env("SAFECONV_RELAY_URL")
    agent_key = env("SAFECONV_AGENT_KEY")
    if relay is None or agent_key is None:
        raise SystemExit("set SAFECONV_RELAY_URL (safeconv-relay's address) and SAFECONV_AGENT_KEY")
    loopback = relay.startswith(("http://127.0.0.1", "http://localhost"))
    # The relay knows its Signicat account; the id here is not used.
    config = safeconv.ClientConfig(
        account_id="via-relay",
        base_url=relay,
        poll_interval=timedelta(milliseconds=250) if loopback else None,
    )
    return safeconv.SafeconvClient.with_token_provider(config, AgentKey(agent_key))


class Input:
    """Standard input, read by one thread for the whole run, so that a line typed while a session
    is waiting is either the cancel command or kept for the next prompt."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.lines: "asyncio.Queue[Optional[str]]" = asyncio.Queue()
        threading.Thread(target=self._read, args=(loop,), name="stdin", daemon=True).start()

    def _read(self, loop: asyncio.AbstractEventLoop) -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(self.lines.put_nowait, line.rstrip("\n"))
        loop.call_soon_threadsafe(self.lines.put_nowait, None)


def describe(outcome: Optional[safeconv.Outcome]) -> str:
    if isinstance(outcome, safeconv.Outcome.SUCCESS):
        subject = outcome.subject
        nin = safeconv.mask_nin(subject.nin.value) if subject.nin else "?"
        return f"✔ Verified: {subject.name or '?'}, born {subject.date_of_birth or '?'} (NIN {nin})"
    if isinstance(outcome, safeconv.Outcome.ABORTED):
        return "✘ The caller declined in the BankID app."
    if isinstance(outcome, safeconv.Outcome.CANCELLED):
        return "✘ Cancelled."
    if isinstance(outcome, safeconv.Outcome.EXPIRED):
        return "✘ The caller did not answer in time."
    if isinstance(outcome, safeconv.Outcome.FAILED):
        return f"✘ Failed: {outcome.error.code if outcome.error and outcome.error.code else outcome.status.value}"
    return "✘ No outcome."


async def verify(client: safeconv.SafeconvClient, nin: str, lines: "asyncio.Queue[Optional[str]]") -> None:
    info = safeconv.check_nin(nin)
    print(f"Starting Safe Conversation for {info.masked} ({info.kind.name.lower().replace('_', ' ')})")
    session = await client.start_safe_conversation(nin)
    print(f"Read this to the caller: «{session.binding_message}»")
    print("Waiting for the caller to confirm in the BankID app (c + Enter to cancel)...")

    handle = safeconv.CancelHandle()
    changes = client.status_changes(session, cancel=handle)

    async def watch() -> None:
        async for state in changes:
            print(f"  status: {state.status.value}")

    watching = asyncio.ensure_future(watch())
    kept = []  # lines typed meanwhile that are not `c`: for the next prompts
    while not watching.done():
        reading = asyncio.ensure_future(lines.get())
        await asyncio.wait({watching, reading}, return_when=asyncio.FIRST_COMPLETED)
        if not reading.done():
            reading.cancel()
            break
        line = reading.result()
        if line is not None and line.strip().lower() == "c":
            print("  cancelling...")
            handle.cancel()
            continue
        kept.append(line)
        if line is None:
            break  # end of input: nothing more to read while waiting
    await watching
    for line in kept:
        lines.put_nowait(line)
    print(describe(changes.outcome))


async def main() -> None:
    try:
        agent = client()
    except safeconv.SafeconvError as error:
        print(f"Cannot start: {error}")
        return
    print(f"safeconv {safeconv.__version__} agent console: through safeconv-relay at {agent.base_url()}")
    lines = Input(asyncio.get_running_loop()).lines
    while True:
        print("\nCaller's national identity number (blank to quit): ", end="", flush=True)
        nin = (await lines.get() or "").strip()
        if not nin:
            break
        try:
            await verify(agent, nin, lines)
        except safeconv.SafeconvError as error:
            print(f"✘ {error}")
    print("Bye.")


if __name__ == "__main__":
    asyncio.run(main())

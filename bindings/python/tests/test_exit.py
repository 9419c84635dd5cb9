"""A program that ends right after giving up a wait: the session is still cancelled at Signicat
(the exit hook finishes the SDK's background work while Python runs), and the interpreter exits
cleanly, whatever the SDK's threads were doing."""

import subprocess
import sys
import textwrap

from conftest import ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, NIN_SILENT

# Gives up the wait after 0.3 s by cancelling its task, and ends at once. Prints the session id.
PROGRAM = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import timedelta
    import safeconv

    async def main():
        config = safeconv.ClientConfig(account_id=sys.argv[2], client_id=sys.argv[3],
                                       client_secret=sys.argv[4], base_url=sys.argv[1],
                                       poll_interval=timedelta(milliseconds=100))
        if sys.argv[5] == "provider":
            token = safeconv.AccessToken(token=sys.argv[6], expires_in=None)
            class Provider(safeconv.TokenProvider):
                def access_token(self):
                    return token
            config = safeconv.ClientConfig(account_id=sys.argv[2], base_url=sys.argv[1],
                                           poll_interval=timedelta(milliseconds=100))
            client = safeconv.SafeconvClient.with_token_provider(config, Provider())
        else:
            client = safeconv.SafeconvClient(config)
        safeconv.install_logging()
        session = await client.start_safe_conversation(sys.argv[7])
        print(session.id, flush=True)
        try:
            await asyncio.wait_for(client.wait(session), timeout=0.3)
        except asyncio.TimeoutError:
            pass

    asyncio.run(main())
    """
)


def run_and_exit(emulator, nin: str, how: str):
    token = emulator.token()["access_token"] if how == "provider" else "-"
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, emulator.url, ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, how, token, nin],
        capture_output=True, text=True, timeout=60,
    )
    return done, done.stdout.strip()


def test_a_wait_given_up_just_before_exit_still_cancels_the_session(emulator):
    emulator.user(NIN_SILENT, "never-answer")
    for how in ("secret", "provider"):
        done, session_id = run_and_exit(emulator, NIN_SILENT, how)
        assert done.returncode == 0, (how, done.returncode, done.stderr)
        assert "FATAL" not in done.stderr, done.stderr
        assert session_id, done.stderr
        # Answered before the process ended: the exit hook waited for the cancel.
        assert emulator.session(session_id)["status"] == "CANCELLED", (how, done.stderr)

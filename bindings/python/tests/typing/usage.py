"""Type-checked (mypy --strict) by tests/test_package.py, never run: the package's API as
application code uses it, beyond what examples/python/agent_console.py shows."""

import asyncio
import logging
from datetime import timedelta
from typing import List, Optional

import safeconv


class Backend(safeconv.TokenProvider):
    def access_token(self) -> safeconv.AccessToken:
        return safeconv.AccessToken(token="from-my-backend", expires_in=timedelta(minutes=5))


class Screen(safeconv.StatusListener):
    def __init__(self) -> None:
        self.shown: List[safeconv.SessionStatus] = []

    def on_status(self, session: safeconv.Session) -> None:
        self.shown.append(session.status)


def name_of(outcome: safeconv.Outcome) -> Optional[str]:
    match outcome:
        case safeconv.Outcome.SUCCESS(subject=subject):
            return subject.name
        case safeconv.Outcome.FAILED(status=status, error=error):
            return f"{status.value}: {error.code if error else None}"
        case _:
            return None


async def verify(client: safeconv.SafeconvClient, nin: str) -> bool:
    session = await client.start_safe_conversation(nin, safeconv.StartOptions(language="nb", external_reference="call-1"))
    if session.status is safeconv.SessionStatus.CREATED or session.status.is_final:
        pass
    screen = Screen()
    cancel = safeconv.CancelHandle()
    outcome = await client.wait(session, screen, timedelta(minutes=3), cancel)
    outcome = await client.resume(session.id, lambda s: print(s.status.name))
    async with client.status_changes(session.id, cancel=cancel) as changes:
        async for state in changes:
            if state.status in (safeconv.SessionStatus.SUCCESS, safeconv.SessionStatus("PENDING")):
                break
    final: Optional[safeconv.Outcome] = changes.outcome
    return outcome.is_success() and final is not None and name_of(final) is not None


async def main() -> None:
    safeconv.install_logging(logging.INFO)
    config = safeconv.ClientConfig(account_id="a-spge-4711", request_timeout=timedelta(seconds=5))
    client = safeconv.SafeconvClient.with_token_provider(config, Backend())
    try:
        info: safeconv.NinInfo = safeconv.check_nin("01018010018", safeconv.NinRules(allow_synthetic=True))
        print(info.masked, info.kind is safeconv.NinKind.BIRTH_NUMBER, safeconv.__version__)
        await verify(client, "01018010018")
    except safeconv.SafeconvError.Api as error:
        status: int = error.http_status
        print(status, error.trace_id, [p.name for p in error.invalid_params])
    except safeconv.SafeconvError as error:
        print(str(error))
    finally:
        done: bool = await client.wait_for_cleanup(timedelta(seconds=5))
        print(done, [s.value for s in safeconv.SessionStatus])


asyncio.run(main())

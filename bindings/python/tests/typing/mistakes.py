"""Type-checked by tests/test_package.py, never run: each line that ends with the comment
`error` must be reported by mypy --strict, and no other line, so that the hints are shown
to have teeth."""

from datetime import timedelta

import safeconv


async def mistakes(client: safeconv.SafeconvClient, session: safeconv.Session) -> None:
    await client.wait(session.id)  # error
    await client.wait(session, timeout=30)  # error
    await client.start_safe_conversation(1018010018)  # error
    client.start_safe_conversation("01018010018").binding_message  # error
    if session.status == "SUCCESS":  # error
        pass
    session.status.is_final()  # error
    outcome = await client.wait(session)
    outcome.subject  # error
    if isinstance(outcome, safeconv.Outcome.SUCCESS):
        print(outcome.subject.name)
    async for state in client.status_changes(session):
        state.binding_message.upper()  # error
    safeconv.ClientConfig(account_id="a", pol_interval=timedelta(seconds=1))  # error
    safeconv.SafeconvClient(safeconv.ClientConfig(account_id="a")).wait_for_cleanup(5)  # error
    error = safeconv.SafeconvError.Api(404, None, None, None, None, [], None)
    error.http_status.upper()  # error
    safeconv.check_nin("01018010018").kind is safeconv.SessionStatus.SUCCESS  # error

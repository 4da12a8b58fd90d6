"""Durable runs: journal every exchange, and replay a journal into a fresh engine to resume.

The engine is deterministic: the same document, inputs, options (seed included) and responses
(each with the time it was received) reproduce the same run. So a journal holds intents (written
and committed *before* a request goes out) and responses; resuming replays the recorded responses
without sending anything, then continues live. A request whose intent was recorded but whose
response was not is *in doubt*: it is re-sent only when that is safe (an idempotent method or an
idempotency key), otherwise resuming stops unless forced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from msgspec import Struct, field

from spola.core.actions import Finish, SendRequest, Wait
from spola.errors import ResumeRefused
from spola.lease import HELD
from spola.redact import REDACTED
from spola.store.records import EventRecord, IntentRecord, ResponseRecord, exchange_row

if TYPE_CHECKING:
    from collections.abc import Awaitable, Generator

    from spola.core.engine import Run
    from spola.exchange import HttpResponse
    from spola.lease import LeaseHolder
    from spola.store.journal import Journal
    from spola.store.records import ExchangeRecord


class JournalHooks(Struct):
    """Adapts the asyncio driver's journal protocol to the SQLite ``Journal``.

    An unsafe request (not idempotent): its intent is committed before it is sent and its response
    before the run goes on. A safe one: nothing before it is sent, and afterwards one compact row
    (intent and response together) queued for the next group commit; a crash in between loses
    only an exchange that resume sends again.
    """

    journal: Journal
    run: Run
    sent_at: dict[int, float] = field(default_factory=dict)

    def before_send(self, action: SendRequest, now: float) -> Awaitable[None] | None:
        """Commit the intent of an unsafe request before it leaves; note the time of a safe one.

        First, whatever the request: raise `LeaseLost` when this process no longer holds the run's
        lease (another one took it over), so nothing more is sent from here. A safe request whose
        lease is not due for a check has nothing to wait for: None (no coroutine, the common case).
        """
        self.journal.check()
        holder = HELD.get(self.run.run_id)
        if (holder is not None and holder.due()) or not action.idempotent:
            return self._before_send(action, now, holder)
        self.sent_at[action.call_id] = now  # recorded with its response
        if holder is not None:
            holder.sent += 1
        return None

    async def _before_send(self, action: SendRequest, now: float, holder: LeaseHolder | None) -> None:
        if holder is not None and holder.due():
            await holder.check()
        if action.idempotent:
            self.sent_at[action.call_id] = now
        else:
            await self._record_intent(action, now)
        if holder is not None:
            holder.sent += 1

    async def _record_intent(self, action: SendRequest, now: float) -> None:
        record = IntentRecord.from_request(
            run_id=self.run.run_id,
            seq=action.call_id,
            step_path=action.step_path,
            step_id=action.step_id,
            attempt=action.attempt,
            request=action.request,
            at=now,
            redactor=self.run.redactor,
            idempotent=action.idempotent,
        )
        await self.journal.intent(record)

    def after_receive(
        self, action: SendRequest, response: HttpResponse, now: float
    ) -> Awaitable[None] | None:
        """Record the response: committed before the run goes on when re-sending would not be safe.

        A response carrying a value its step's outputs send on as a credential (a login's token) is
        recorded with that value already withheld: the engine learns it first.
        """
        if self.run.secret_outputs:
            self.run.foresee_secrets(action.call_id, response)
        if action.idempotent:
            self.journal.exchange(
                exchange_row(
                    run_id=self.run.run_id,
                    seq=action.call_id,
                    step_path=action.step_path,
                    step_id=action.step_id,
                    attempt=action.attempt,
                    request=action.request,
                    idempotent=True,
                    intent_at=self.sent_at.pop(action.call_id, now),
                    response=response,
                    received_at=now,
                    redactor=self.run.redactor,
                )
            )
            return None  # queued for the next group commit: nothing to wait for
        record = ResponseRecord.from_response(
            run_id=self.run.run_id,
            seq=action.call_id,
            response=response,
            received_at=now,
            redactor=self.run.redactor,
        )
        return self.journal.durable_response(record)


class ReplayOutcome(Struct):
    """Where replay stopped: requests to send live next, and what was replayed."""

    pending: list[SendRequest] = field(default_factory=list)
    replayed: int = 0
    resent_in_doubt: list[int] = field(default_factory=list)
    finished: bool = False
    relived: list[int] = field(default_factory=list)
    """Exchanges sent again live because their stored response withheld a credential (re-logins)."""


def failed_transport_exchange(exchanges: tuple[ExchangeRecord, ...]) -> ExchangeRecord | None:
    """The exchange a failed run ended on when it was a transport failure (no response), else None."""
    answered = [e for e in exchanges if not e.in_doubt]
    if not answered:
        return None
    last = max(answered, key=lambda e: (e.received_at or 0.0, e.seq))
    return last if last.status is None and last.error is not None else None


def replay(
    run: Run, exchanges: tuple[ExchangeRecord, ...], *, force: bool = False, retry: int | None = None
) -> ReplayOutcome:
    """Feed a journal's responses into ``run`` in the order they were received; send nothing.

    ``retry`` is the seq of a failed exchange (a transport failure a failed run ended on) whose
    response is not replayed: the run asks for it again and it is sent live.

    Returns the requests the run now wants sent (the live continuation).

    Raises:
        ResumeRefused: the run diverged from its journal (document changed), or a non-idempotent
            request is in doubt and ``force`` is not set.
    """
    steps = replay_steps(run, exchanges, force=force, retry=retry)
    try:
        next(steps)
    except StopIteration as stop:
        outcome: ReplayOutcome = stop.value
        return outcome
    raise AssertionError("replay without reliving asked for a live request")  # pragma: no cover


def withheld(run: Run, record: ExchangeRecord, response: HttpResponse) -> bool:
    """Whether a stored response lacks, redacted, a value its step sends on as a credential (a login's
    token): replaying it would hand the run ``***`` instead of the token, so the step is repeated."""
    values = run.secret_output_values(record.seq, response)
    return values is not None and (record.body_redacted or any(REDACTED in v for v in values))


def replay_steps(
    run: Run,
    exchanges: tuple[ExchangeRecord, ...],
    *,
    force: bool = False,
    retry: int | None = None,
    relive: bool = False,
) -> Generator[SendRequest, tuple[HttpResponse, float], ReplayOutcome]:
    """`replay`, as a generator (it yields a request to send again live and is sent its response and
    when it was received); with ``relive``, a stored response that is `withheld` is not fed to
    the run: its request is yielded, to be sent live, and the response sent back is fed instead (at
    the time the stored one was received, so the rest of the journal replays in its order)."""
    exchanges = tuple(e for e in exchanges if not e.step_path.startswith("cancel>"))  # a cancel workflow's
    by_seq = {e.seq: e for e in exchanges}
    answered = sorted(
        (e for e in exchanges if not e.in_doubt and e.seq != retry),
        key=lambda e: (e.received_at or 0.0, e.seq),
    )
    order = [e.seq for e in answered]
    outcome = ReplayOutcome()
    waiting: dict[int, SendRequest] = {}
    clock = run.started_at
    position = 0
    while True:
        actions = run.next_actions(clock)
        for action in actions:
            if isinstance(action, Finish):
                outcome.finished = True
                return outcome
            if isinstance(action, SendRequest):
                _check_same(action, by_seq.get(action.call_id))
                waiting[action.call_id] = action
        next_seq = order[position] if position < len(order) else None
        if next_seq is not None and next_seq in waiting:
            record = by_seq[next_seq]
            response = record.to_response()
            assert response is not None and record.received_at is not None
            asked = waiting.pop(next_seq)
            if relive and withheld(run, record, response):
                response, _ = yield asked
                outcome.relived.append(next_seq)
            clock = max(clock, record.received_at)
            run.receive(next_seq, response, record.received_at)
            position += 1
            outcome.replayed += 1
            continue
        waits = [a for a in actions if isinstance(a, Wait)]
        if next_seq is not None and waits and not waiting:
            clock = max(clock, min(w.until for w in waits), by_seq[next_seq].intent_at)
            continue
        break
    for seq, action in sorted(waiting.items()):
        pending_record = by_seq.get(seq)
        if pending_record is not None and pending_record.in_doubt:
            # Judged by what was sent (the journalled intent), never by the request rebuilt now: a key
            # given only at resume (say an idempotency token input) was not on the request that may
            # have started the job, so it cannot make sending again safe.
            if not pending_record.idempotent and not force:
                rebuilt = (
                    "; the request rebuilt now carries an idempotency key, but the one sent did not"
                    if action.idempotent
                    else ""
                )
                raise ResumeRefused(
                    f"step {action.step_id} ({pending_record.method} {pending_record.url}) was sent but its "
                    "response was never recorded, and sending it again is not known to be safe: it may "
                    f"have started the remote job already{rebuilt}",
                    hint="Check the remote system; resume with --force-resend to send it again anyway.",
                )
            outcome.resent_in_doubt.append(seq)
        outcome.pending.append(action)
    return outcome


def _check_same(action: SendRequest, record: ExchangeRecord | None) -> None:
    if record is None:
        return
    if record.method != action.request.method or record.step_id != action.step_id:
        raise ResumeRefused(
            f"the run no longer matches its journal at exchange {action.call_id}: the journal has "
            f"{record.method} for step {record.step_id}, the document now asks {action.request.method} "
            f"for step {action.step_id}",
            hint="The document or its inputs changed since the run started; start a new run instead.",
        )


def resume_event(run_id: str, at: float, outcome: ReplayOutcome) -> EventRecord:
    """An event saying a run was resumed, for ``spola runs show``."""
    return EventRecord(
        run_id=run_id,
        kind="resumed",
        at=at,
        data={
            "replayed": outcome.replayed,
            "resentInDoubt": outcome.resent_in_doubt,
            "relived": outcome.relived,
        },
    )

"""Sending one delivery: claim it under a lease, POST it, record the attempt.

The claim is a short transaction that moves the delivery from pending to sending with a
lease token and expiry; only the holder of the token can record the result, so a worker
that stalls past its lease cannot overwrite what a second worker did. The HTTP call runs
outside any transaction. A delivery is only claimed when it is its turn: no earlier
version for the same outlet and article is unfinished, the outlet is enabled, its
circuit lets traffic through and fewer than OUTLET_MAX_IN_FLIGHT of its deliveries are
being sent (otherwise it is deferred: left pending, and queued again when a slot frees).
The sweeper re-queues deliveries whose task was lost and releases leases whose worker
died.

No delivery is sent by two workers at once: the attempt's budget starts before the
claim and ends WEBHOOK_DEADLINE_SECONDS later (the HTTP client enforces it, under any
Celery pool), the lease runs DELIVERY_LEASE_SECONDS from the claim (longer, checked at
start-up), and right before sending the worker checks that the lease is still its own
and extends it (compare-and-set), so a lease that was taken away is never sent on.
"""

import logging
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import (
    FINAL_STATES,
    Circuit,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    Outlet,
    utcnow,
)
from app.platform.uow import locked, transaction
from app.publishing import outbox, signing, urlguard, webhook
from app.publishing.formats import WEBHOOK_FORMATS

log = logging.getLogger(__name__)
# Made once: an alias proxies every column, and each attempt builds statements with them.
_SENDING, _EARLIER, _LATER = (aliased(Delivery, name=name) for name in ("sending", "earlier", "later"))
SUCCESS_STAMP_SECONDS = 1.0  # an outlet's last_success_at is exact to this
RESERVED_HEADERS = frozenset({"content-type", "content-length", "host", "idempotency-key",
                              "user-agent", "transfer-encoding", "connection"})


@dataclass(frozen=True)
class Claim:
    """What a worker needs to send a delivery, copied out of the claiming transaction."""
    delivery_id: str
    token: str
    number: int
    url: str
    secret: str
    signed: signing.Signed
    headers: dict
    body: bytes
    started_at: datetime
    outlet_id: str
    probe: bool  # the outlet's circuit was open: this attempt tells whether it recovered


def attempt(delivery_id: str) -> str:
    """Send ``delivery_id`` if it is its turn; returns what happened (for the task result):
    skipped, deferred (its outlet has no free slot), late (the lease was lost before
    sending: nothing sent), or the recorded outcome."""
    config = current_app.config
    # Started before the claim, so the claim's lease outlives the whole attempt.
    budget = webhook.Budget.starting_now(config["WEBHOOK_DEADLINE_SECONDS"],
                                         config["WEBHOOK_TIMEOUT_SECONDS"])
    claim = _claim(delivery_id)
    if not isinstance(claim, Claim):
        return claim
    result = _send(claim, budget)
    if result is None:
        return "late"
    return _record(claim, result)


def _claim(delivery_id: str) -> Claim | str:
    """The claim, or why there is none ("skipped" or "deferred").

    Two statements in the common case: the outlet's row locked (only for a delivery that
    looks due; outlet before delivery, as everywhere), then one conditional UPDATE that
    takes the delivery if it is its turn and the outlet has a free slot. Under the outlet's
    lock that UPDATE's snapshot sees every other claim for the outlet, so the in-flight
    count is exact; the state condition lets exactly one worker take a delivery."""
    with transaction():
        now = utcnow()
        outlet = db.session.scalar(
            select(Outlet).join(Delivery, Delivery.outlet_id == Outlet.id)
            .where(Delivery.id == delivery_id, *_due(Delivery, now))
            .with_for_update(of=Outlet).execution_options(populate_existing=True))
        if outlet is None or not _circuit_open_to(outlet, now):
            return "skipped"  # a repeated or early message, or the outlet takes no traffic
        delivery = _take(delivery_id, outlet.id, now)
        if delivery is None:
            return _not_taken(delivery_id, outlet.id, now)
        probe = _admit_probe(outlet, now)
        signed = signing.Signed(delivery.id, delivery.article_id, delivery.sequence, delivery.kind.value)
        return Claim(delivery.id, delivery.lease_token, delivery.attempts, outlet.url, outlet.secret, signed,
                     _headers(outlet, delivery), WEBHOOK_FORMATS[outlet.format].render(delivery.document),
                     now, outlet.id, probe)


def _due(delivery, now: datetime) -> tuple:
    return delivery.state == DeliveryState.PENDING, delivery.next_attempt_at <= now


def _take(delivery_id: str, outlet_id: str, now: datetime) -> Delivery | None:
    """Pending -> sending under a new lease, if it is its turn and the outlet has a slot."""
    lease = timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])
    has_slot = _in_flight(outlet_id, now).scalar_subquery() < current_app.config["OUTLET_MAX_IN_FLIGHT"]
    return db.session.scalar(
        update(Delivery).where(Delivery.id == delivery_id, *_due(Delivery, now),
                               ~_unfinished_predecessor(Delivery), has_slot)
        .values(state=DeliveryState.SENDING, deferred_at=None, attempts=Delivery.attempts + 1,
                lease_token=secrets.token_hex(16), lease_expires_at=now + lease)
        .returning(Delivery).execution_options(synchronize_session=False))


def _not_taken(delivery_id: str, outlet_id: str, now: datetime) -> str:
    """Why the UPDATE took nothing: not its turn ("skipped"), or no free slot ("deferred":
    marked, so a finishing attempt queues it again)."""
    delivery = locked(Delivery, delivery_id)
    if not _is_its_turn(delivery, now):
        return "skipped"
    if db.session.scalar(_in_flight(outlet_id, now)) >= current_app.config["OUTLET_MAX_IN_FLIGHT"]:
        delivery.deferred_at = delivery.deferred_at or now
        return "deferred"
    return "skipped"


def _in_flight(outlet_id, now: datetime):
    """SELECT how many of the outlet's deliveries are being sent under a live lease (a
    dead worker's expired lease holds no slot). ``outlet_id`` is a value or a column."""
    sending = _SENDING
    return select(func.count()).select_from(sending).where(
        sending.outlet_id == outlet_id, sending.state == DeliveryState.SENDING,
        sending.lease_expires_at > now)


def _is_its_turn(delivery: Delivery, now: datetime) -> bool:
    if delivery.state != DeliveryState.PENDING or delivery.next_attempt_at > now:
        return False
    return not db.session.scalar(select(_unfinished_predecessor(delivery)))


def _unfinished_predecessor(delivery):
    """EXISTS an earlier, unfinished version for the same outlet and article.

    ``delivery`` is a row (its values) or the Delivery entity (a correlated subquery)."""
    earlier = _EARLIER
    return exists().where(earlier.outlet_id == delivery.outlet_id,
                          earlier.article_id == delivery.article_id,
                          earlier.sequence < delivery.sequence,
                          earlier.state.not_in(FINAL_STATES))


def _circuit_open_to(outlet: Outlet, now: datetime) -> bool:
    """Closed: yes. Open or probing past its retry time: a probe may go."""
    if not outlet.enabled:
        return False
    return outlet.circuit == Circuit.CLOSED or bool(outlet.circuit_retry_at and
                                                    outlet.circuit_retry_at <= now)


def _admit_probe(outlet: Outlet, now: datetime) -> bool:
    """Whether the delivery just taken is the outlet's probe (its circuit was not closed)."""
    if outlet.circuit == Circuit.CLOSED:
        return False
    outlet.circuit = Circuit.PROBING
    # A probe whose worker dies does not hold the circuit for ever.
    outlet.circuit_retry_at = now + timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])
    return True


def _headers(outlet: Outlet, delivery: Delivery) -> dict:
    extra = {name: value for name, value in (outlet.headers or {}).items()
             if name.lower() not in RESERVED_HEADERS and not name.lower().startswith("masthead-")}
    return {**extra, "Content-Type": WEBHOOK_FORMATS[outlet.format].MEDIA_TYPE,
            "User-Agent": "Masthead-Webhooks/1", "Idempotency-Key": delivery.id,
            "Masthead-Delivery": delivery.id, "Masthead-Event": delivery.kind.value,
            "Masthead-Sequence": str(delivery.sequence), "Masthead-Article": delivery.article_id}


def _send(claim: Claim, budget: webhook.Budget) -> webhook.Result | None:
    """The attempt's result; None if the lease was lost before anything was sent."""
    allowed = urlguard.parse_networks(current_app.config["WEBHOOK_ALLOWED_NETWORKS"])
    try:
        target = urlguard.check(claim.url, allowed, timeout=budget.next_timeout())
    except urlguard.LookupFailed as failed:  # DNS may answer next time: a retry, not dead
        return webhook.Result(None, 0.0, error=str(failed))
    except urlguard.RefusedUrl as refused:
        return webhook.Result(None, 0.0, error=f"refused: {refused}", refused=True)
    except webhook.DeadlineExceeded:
        return webhook.Result(None, 0.0, error="deadline exceeded")
    if not _extend_lease(claim):
        return None
    headers = {**claim.headers, signing.HEADER: signing.signature_header(
        claim.secret, claim.signed, claim.body, int(time.time()))}
    return webhook.post(target, claim.body, headers, budget)


def _extend_lease(claim: Claim) -> bool:
    """Right before sending: the lease is still this claim's and live (compare), and runs a
    full term from now (set). False if another worker may hold the delivery now."""
    with transaction():
        now = utcnow()
        extended = db.session.execute(
            update(Delivery).where(Delivery.id == claim.delivery_id, Delivery.lease_token == claim.token,
                                   Delivery.state == DeliveryState.SENDING, Delivery.lease_expires_at > now)
            .values(lease_expires_at=now + timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"]))
            .execution_options(synchronize_session=False))
    if extended.rowcount != 1:
        log.warning("delivery=%s attempt=%d not sent: its lease was lost before sending",
                    claim.delivery_id, claim.number)
        return False
    return True


def _record(claim: Claim, result: webhook.Result) -> str:
    if result.delivered and not claim.probe:
        outcome = _record_delivered(claim, result)
        if outcome is not None:
            return outcome
    return _record_any(claim, result)


class _NotTheCommonCase(Exception):
    """Raised inside ``_record_delivered``'s transaction to undo it (the full path records)."""


def _record_delivered(claim: Claim, result: webhook.Result) -> str | None:
    """A success on a healthy outlet, in three statements and without locking the outlet
    (unless its last success stamp is a second old): the delivery's compare-and-set on its
    lease, the attempt, the stamp. None when it is not that case: nothing is written then."""
    config = current_app.config
    try:
        with transaction() as session:
            now = utcnow()
            healthy, stale = session.execute(select(
                (Outlet.circuit == Circuit.CLOSED) & (Outlet.consecutive_failures == 0),
                Outlet.last_success_at.is_(None)
                | (Outlet.last_success_at < now - timedelta(seconds=SUCCESS_STAMP_SECONDS)))
                .where(Outlet.id == claim.outlet_id)).one()
            if not healthy:
                raise _NotTheCommonCase
            if stale:  # outlet before delivery; conditional, so concurrent stamps agree
                session.execute(update(Outlet).where(
                    Outlet.id == claim.outlet_id, Outlet.circuit == Circuit.CLOSED,
                    Outlet.consecutive_failures == 0,
                    Outlet.last_success_at.is_(None) | (Outlet.last_success_at < now))
                    .values(last_success_at=now).execution_options(synchronize_session=False))
            # Counted with this delivery still sending: only a full outlet can have deferred some.
            was_full = _in_flight(claim.outlet_id, now).scalar_subquery() >= config["OUTLET_MAX_IN_FLIGHT"]
            row = session.execute(
                update(Delivery).where(Delivery.id == claim.delivery_id, Delivery.lease_token == claim.token,
                                       Delivery.state == DeliveryState.SENDING)
                .values(state=DeliveryState.DELIVERED, delivered_at=now, ended_at=now,
                        last_status_code=result.status_code, last_error=result.error,
                        lease_token=None, lease_expires_at=None)
                .returning(was_full, _successor(Delivery).scalar_subquery())
                .execution_options(synchronize_session=False)).first()
            if row is None:  # the lease was lost: the full path records the late attempt
                raise _NotTheCommonCase
            session.add(_attempt_row(claim, result, "delivered"))
    except _NotTheCommonCase:
        return None
    _log_attempt(claim, result, "delivered")
    was_full, successor = row
    if successor:
        outbox.queue([successor])
    if was_full:
        _queue_deferred(claim.outlet_id)
    return "delivered"


def _attempt_row(claim: Claim, result: webhook.Result, outcome: str) -> DeliveryAttempt:
    return DeliveryAttempt(delivery_id=claim.delivery_id, number=claim.number, started_at=claim.started_at,
                           latency_ms=result.latency_ms, status_code=result.status_code, error=result.error,
                           response_excerpt=result.excerpt, outcome=outcome)


def _record_any(claim: Claim, result: webhook.Result) -> str:
    with transaction() as session:
        now = utcnow()
        delivery = session.get(Delivery, claim.delivery_id)
        outlet = _outlet_to_update(delivery.outlet_id, result, now)
        delivery = locked(Delivery, claim.delivery_id)
        outcome = _outcome(delivery, result)
        session.add(_attempt_row(claim, result, outcome if delivery.lease_token == claim.token
                                 else "late"))
        if delivery.lease_token != claim.token:  # the lease expired and was given to another
            return "late"
        was_probe = outlet.circuit == Circuit.PROBING
        # Counted with this delivery still sending: only a full outlet can have deferred some.
        was_full = session.scalar(_in_flight(outlet.id, now)) >= current_app.config["OUTLET_MAX_IN_FLIGHT"]
        _apply(delivery, outlet, result, outcome, now)
    _log_attempt(claim, result, outcome)
    _queue_follow_ups(delivery, outcome, was_probe)
    if was_full:
        _queue_deferred(delivery.outlet_id)
    return outcome


def _queue_deferred(outlet_id: str) -> None:
    """This attempt freed a slot of a full outlet: queue its longest-deferred delivery."""
    waiting = _due_ids(utcnow(), Delivery.outlet_id == outlet_id, Delivery.deferred_at.is_not(None),
                       limit=1, order=Delivery.deferred_at)
    outbox.queue(waiting)


def _outlet_to_update(outlet_id: str, result: webhook.Result, now: datetime) -> Outlet:
    """The outlet, row-locked if this result changes its health. A success on a healthy
    outlet whose last success was stamped within the second changes nothing, so concurrent
    deliveries to one outlet do not queue on its row."""
    outlet = db.session.get(Outlet, outlet_id, populate_existing=True)
    healthy = outlet.circuit == Circuit.CLOSED and outlet.consecutive_failures == 0
    fresh = outlet.last_success_at is not None and \
        (now - outlet.last_success_at).total_seconds() < SUCCESS_STAMP_SECONDS
    if result.delivered and healthy and fresh:
        return outlet
    return locked(Outlet, outlet_id)


def _outcome(delivery: Delivery, result: webhook.Result) -> str:
    if result.delivered:
        return "delivered"
    if result.permanent or delivery.attempts >= current_app.config["DELIVERY_MAX_ATTEMPTS"]:
        return "dead"
    return "retry"


def _apply(delivery: Delivery, outlet: Outlet, result: webhook.Result, outcome: str,
           now: datetime) -> None:
    delivery.last_status_code, delivery.last_error = result.status_code, result.error
    delivery.lease_token = delivery.lease_expires_at = None
    if outcome == "delivered":
        delivery.state, delivery.delivered_at, delivery.ended_at = DeliveryState.DELIVERED, now, now
        _close_circuit(outlet, now)
        return
    if outcome == "dead":
        delivery.state, delivery.ended_at = DeliveryState.DEAD, now
    else:
        delivery.state = DeliveryState.PENDING
        delivery.next_attempt_at = now + timedelta(seconds=retry_delay(delivery.attempts, result))
    if not result.permanent:  # a 4xx is about this delivery, not the outlet's health
        _count_failure(outlet, now)


def retry_delay(attempts: int, result: webhook.Result) -> float:
    """Exponential backoff with full jitter in [0.5, 1] of the step, capped; a longer
    Retry-After from the receiver wins."""
    config = current_app.config
    step = min(config["DELIVERY_BACKOFF_MAX_SECONDS"],
               config["DELIVERY_BACKOFF_BASE_SECONDS"] * 2 ** (attempts - 1))
    delay = step * random.uniform(0.5, 1.0)
    if result.retry_after is not None:
        delay = max(delay, min(result.retry_after, config["DELIVERY_BACKOFF_MAX_SECONDS"]))
    return delay


def _close_circuit(outlet: Outlet, now: datetime) -> None:
    """Unchanged values are not written (the ORM skips them), so this is free when the
    outlet is healthy and its last success recent."""
    if outlet.circuit != Circuit.CLOSED or outlet.consecutive_failures:
        outlet.circuit, outlet.circuit_retry_at = Circuit.CLOSED, None
        outlet.consecutive_failures = 0
    if outlet.last_success_at is None or \
            (now - outlet.last_success_at).total_seconds() >= SUCCESS_STAMP_SECONDS:
        outlet.last_success_at = now


def _count_failure(outlet: Outlet, now: datetime) -> None:
    config = current_app.config
    outlet.consecutive_failures += 1
    outlet.last_failure_at = now
    if outlet.circuit == Circuit.PROBING or \
            outlet.consecutive_failures >= config["OUTLET_BREAKER_FAILURES"]:
        outlet.circuit = Circuit.OPEN
        outlet.circuit_retry_at = now + timedelta(seconds=config["OUTLET_BREAKER_COOLDOWN_SECONDS"])


def _log_attempt(claim: Claim, result: webhook.Result, outcome: str) -> None:
    log.info("delivery=%s attempt=%d status=%s latency_ms=%.1f outcome=%s error=%s",
             claim.delivery_id, claim.number, result.status_code, result.latency_ms, outcome,
             result.error)


def _queue_follow_ups(delivery: Delivery, outcome: str, was_probe: bool) -> None:
    """Queue what this attempt unblocked: its own retry (short delays; the sweeper takes
    long ones), the next version for the same outlet and article, and, after a successful
    probe, the outlet's backlog."""
    if outcome == "retry":
        delay = (delivery.next_attempt_at - utcnow()).total_seconds()
        if delay <= current_app.config["DELIVERY_SWEEP_AGE_SECONDS"] * 10:
            outbox.queue([delivery.id], countdown=max(delay, 0.0))
        return
    if outcome == "delivered" and was_probe:  # beyond the outlet's slots they are deferred
        outbox.queue(_due_ids(utcnow(), Delivery.outlet_id == delivery.outlet_id))
        return
    _queue_successor(delivery)


def _queue_successor(delivery: Delivery) -> None:
    """The next version for the same outlet and article, now that this one is final."""
    successor = db.session.scalar(_successor(delivery))
    if successor:
        outbox.queue([successor])


def _successor(delivery):
    """SELECT the next pending version for the same outlet and article. ``delivery`` is a
    row (its values) or the Delivery entity (correlated: a success's UPDATE returns it)."""
    later = _LATER
    return (select(later.id).where(later.outlet_id == delivery.outlet_id,
                                   later.article_id == delivery.article_id,
                                   later.sequence > delivery.sequence,
                                   later.state == DeliveryState.PENDING)
            .order_by(later.sequence).limit(1))


SWEEP_BATCH = 1000


def sweep() -> dict:
    """Release leases whose worker died and queue again deliveries due for longer than
    DELIVERY_SWEEP_AGE_SECONDS (their task was lost: broker down, worker killed)."""
    released = _release_expired_leases()
    with transaction():
        now = utcnow()
        age = timedelta(seconds=current_app.config["DELIVERY_SWEEP_AGE_SECONDS"])
        due = _due_ids(now - age)
        if due:  # not swept again for another sweep age, whether or not the task runs
            for delivery in db.session.scalars(select(Delivery).where(Delivery.id.in_(due))):
                delivery.next_attempt_at = now
    outbox.queue(due)
    return {"released": released, "queued": len(due)}


def _due_ids(due_before: datetime, *where, limit: int = SWEEP_BATCH,
             order=Delivery.next_attempt_at) -> list[str]:
    """Pending deliveries due by ``due_before`` whose turn it is, on outlets taking traffic
    and with a free slot (a full outlet's deliveries are queued as its slots free)."""
    now = utcnow()
    admits = (Outlet.circuit == Circuit.CLOSED) | (Outlet.circuit_retry_at <= now)
    has_slot = _in_flight(Outlet.id, now).scalar_subquery() < current_app.config["OUTLET_MAX_IN_FLIGHT"]
    query = (select(Delivery.id).join(Outlet, Outlet.id == Delivery.outlet_id)
             .where(Delivery.state == DeliveryState.PENDING, Delivery.next_attempt_at <= due_before,
                    Outlet.enabled, admits, has_slot, ~_unfinished_predecessor(Delivery), *where)
             .order_by(order).limit(limit))
    return list(db.session.scalars(query))


def _release_expired_leases() -> int:
    with transaction() as session:
        now = utcnow()
        expired = session.scalars(
            select(Delivery).where(Delivery.state == DeliveryState.SENDING,
                                   Delivery.lease_expires_at <= now)
            .order_by(Delivery.id).limit(SWEEP_BATCH).with_for_update(skip_locked=True))
        count = 0
        for delivery in expired:
            _release(session, delivery, now)
            count += 1
    return count


def _release(session, delivery: Delivery, now: datetime) -> None:
    """The worker holding the lease died mid-attempt; whether the receiver got the request
    is unknown, so it is sent again (same Idempotency-Key)."""
    session.add(DeliveryAttempt(delivery_id=delivery.id, number=delivery.attempts, started_at=now,
                                error="worker lost during the attempt (lease expired)", outcome="lost"))
    out_of_attempts = delivery.attempts >= current_app.config["DELIVERY_MAX_ATTEMPTS"]
    delivery.state = DeliveryState.DEAD if out_of_attempts else DeliveryState.PENDING
    delivery.lease_token = delivery.lease_expires_at = None
    delivery.last_error = "worker lost during the attempt"
    delivery.next_attempt_at = now
    if out_of_attempts:
        delivery.ended_at = now

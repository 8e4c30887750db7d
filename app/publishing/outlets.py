"""Outlets: where published articles go (admin), and how each one is doing."""

import logging
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import Circuit, DeliveryAttempt, Outlet, OutletKind, User, utcnow
from app.models.publishing import Delivery
from app.platform.uow import locked, transaction
from app.publishing import urlguard
from app.publishing.formats import FEED_FORMATS, WEBHOOK_FORMATS

FORMATS = {OutletKind.WEBHOOK: WEBHOOK_FORMATS, OutletKind.FEED: FEED_FORMATS}
DEFAULT_FORMAT = {OutletKind.WEBHOOK: "ninjs", OutletKind.FEED: "atom"}
HEALTH_WINDOW = timedelta(hours=1)
log = logging.getLogger(__name__)


def create(actor: User, data: dict) -> Outlet:
    """A new outlet; a webhook gets a generated signing secret unless one is given."""
    kind = OutletKind(data["kind"])
    data = {**data, "format": data.get("format") or DEFAULT_FORMAT[kind]}
    _check(kind, data)
    with transaction() as session:
        if session.scalar(select(Outlet.id).where(Outlet.name == data["name"])):
            raise Conflict(f"An outlet named {data['name']!r} exists.")
        outlet = Outlet(name=data["name"], kind=kind, format=data["format"], url=data.get("url"),
                        headers=data.get("headers") or {}, filters=data.get("filters") or {},
                        enabled=data.get("enabled", True))
        if kind == OutletKind.WEBHOOK:
            outlet.secret = data.get("secret") or new_secret()
        session.add(outlet)
        session.flush()
    log.info("outlet created outlet=%s kind=%s by=%s", outlet.id, kind.value, actor.id)
    return outlet


def update(actor: User, outlet_id: str, changes: dict) -> Outlet:
    with transaction():
        outlet = _locked_outlet(outlet_id)
        if "url" in changes or "format" in changes:
            _check(outlet.kind, {"url": outlet.url, "format": outlet.format, **changes})
        if changes.get("name", outlet.name) != outlet.name and \
                db.session.scalar(select(Outlet.id).where(Outlet.name == changes["name"])):
            raise Conflict(f"An outlet named {changes['name']!r} exists.")
        for field in ("name", "url", "format", "headers", "filters", "enabled"):
            if field in changes:
                setattr(outlet, field, changes[field])
    log.info("outlet updated outlet=%s fields=%s by=%s", outlet.id, ",".join(sorted(changes)), actor.id)
    return outlet


def rotate_secret(actor: User, outlet_id: str) -> Outlet:
    """A new signing secret, effective for the next attempt (shown once, in this response)."""
    with transaction():
        outlet = _locked_outlet(outlet_id)
        if outlet.kind != OutletKind.WEBHOOK:
            raise Conflict("Only webhook outlets sign their deliveries.")
        outlet.secret = new_secret()
    log.info("outlet secret rotated outlet=%s by=%s", outlet.id, actor.id)
    return outlet


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def _check(kind: OutletKind, data: dict) -> None:
    if data["format"] not in FORMATS[kind]:
        raise ValidationFailed.at("/format",
                                  f"A {kind.value} outlet takes one of: {', '.join(FORMATS[kind])}.")
    if kind == OutletKind.FEED:
        if data.get("url"):
            raise ValidationFailed.at("/url", "A feed is served by Masthead; it has no URL to call.")
        return
    if not data.get("url"):
        raise ValidationFailed.at("/url", "A webhook outlet needs a URL.")
    allowed = urlguard.parse_networks(current_app.config["WEBHOOK_ALLOWED_NETWORKS"])
    try:
        urlguard.check(data["url"], allowed, timeout=current_app.config["WEBHOOK_TIMEOUT_SECONDS"])
    except urlguard.RefusedUrl as refused:
        raise ValidationFailed.at("/url", str(refused)) from refused


def get(outlet_id: str) -> Outlet:
    outlet = db.session.get(Outlet, outlet_id)
    if outlet is None:
        raise NotFound(f"No outlet {outlet_id}.")
    return outlet


def _locked_outlet(outlet_id: str) -> Outlet:
    outlet = locked(Outlet, outlet_id)
    if outlet is None:
        raise NotFound(f"No outlet {outlet_id}.")
    return outlet


def list_outlets() -> list[Outlet]:
    return list(db.session.scalars(select(Outlet).order_by(Outlet.name)))


def health(outlet_id: str) -> dict:
    """Last success and failure, the failure rate of the last hour's attempts, the circuit
    and the backlog by state."""
    outlet = get(outlet_id)
    since = utcnow() - HEALTH_WINDOW
    attempts = db.session.execute(
        select(DeliveryAttempt.outcome, func.count()).join(Delivery)
        .where(Delivery.outlet_id == outlet.id, DeliveryAttempt.started_at >= since)
        .group_by(DeliveryAttempt.outcome)).all()
    by_outcome = dict(attempts)
    total = sum(by_outcome.values())
    backlog = dict(db.session.execute(
        select(Delivery.state, func.count()).where(Delivery.outlet_id == outlet.id)
        .group_by(Delivery.state)).all())
    return {
        "outlet_id": outlet.id, "enabled": outlet.enabled, "circuit": outlet.circuit.value,
        "paused": outlet.circuit != Circuit.CLOSED or not outlet.enabled,
        "circuit_retry_at": outlet.circuit_retry_at, "consecutive_failures": outlet.consecutive_failures,
        "last_success_at": outlet.last_success_at, "last_failure_at": outlet.last_failure_at,
        "attempts_last_hour": total,
        "failure_rate_last_hour": (total - by_outcome.get("delivered", 0)) / total if total else None,
        "deliveries_by_state": {state.value: count for state, count in backlog.items()},
    }

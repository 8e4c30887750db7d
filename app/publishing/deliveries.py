"""The delivery log: what each outlet was sent and received, and an editor's corrections
of it (redeliver, cancel)."""

from datetime import datetime

from sqlalchemy import select

from app.editorial import audit
from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import (
    Article,
    Delivery,
    DeliveryAttempt,
    DeliveryKind,
    DeliveryState,
    Outlet,
    OutletKind,
    User,
    utcnow,
)
from app.platform.pagination import Page, paginate
from app.platform.uow import locked, transaction
from app.publishing import outbox


def list_deliveries(filters: dict, limit: int, cursor: str | None) -> Page:
    """Newest first, filtered by state, outlet, article and creation time."""
    query = select(Delivery)
    for field in ("state", "outlet_id", "article_id", "kind"):
        if filters.get(field):
            query = query.where(getattr(Delivery, field) == filters[field])
    if filters.get("since"):
        query = query.where(Delivery.created_at >= filters["since"])
    if filters.get("until"):
        query = query.where(Delivery.created_at < filters["until"])
    return paginate(query, Delivery.created_at, Delivery.id, "-created_at", limit, cursor, db.session)


def get(delivery_id: str) -> Delivery:
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"No delivery {delivery_id}.")
    return delivery


def attempts(delivery_id: str) -> list[DeliveryAttempt]:
    return list(db.session.scalars(select(DeliveryAttempt).where(
        DeliveryAttempt.delivery_id == delivery_id).order_by(DeliveryAttempt.started_at,
                                                             DeliveryAttempt.number)))


def redeliver(actor: User, delivery_id: str) -> Delivery:
    """Send a dead or delivered version again, as a new delivery (new Idempotency-Key, next
    sequence). Only the outlet's latest version of the article can be sent again: an older
    one would overwrite a newer version at the receiver."""
    with transaction() as session:
        original = get(delivery_id)
        outlet = locked(Outlet, original.outlet_id)
        original = locked(Delivery, delivery_id)
        if original.state not in (DeliveryState.DEAD, DeliveryState.DELIVERED):
            raise Conflict(f"Only a dead or delivered delivery can be redelivered; this one is "
                           f"{original.state.value}.", state=original.state.value)
        if outlet.kind != OutletKind.WEBHOOK:
            raise Conflict("A feed serves its latest entries; there is nothing to send again.")
        _refuse_if_superseded(original)
        copy = _copy(original, outlet, utcnow())
        session.add(copy)
        session.flush()
        audit.record(db.session.get(Article, original.article_id), actor, "delivery_redelivered",
                     details={"delivery_id": original.id, "new_delivery_id": copy.id,
                              "outlet_id": outlet.id})
        outbox.queue_after_commit(copy.id)
    return copy


def _refuse_if_superseded(original: Delivery) -> None:
    newer = db.session.scalar(select(Delivery.id).where(
        Delivery.outlet_id == original.outlet_id, Delivery.article_id == original.article_id,
        Delivery.sequence > original.sequence, Delivery.state != DeliveryState.CANCELLED).limit(1))
    if newer:
        raise Conflict("A newer version of this article went to this outlet since; redeliver that one.",
                       newer_delivery_id=newer)


def _copy(original: Delivery, outlet: Outlet, now: datetime) -> Delivery:
    sequence = outlet.next_sequence
    outlet.next_sequence += 1
    document = {**original.document, "version": str(sequence)}
    return Delivery(outlet_id=outlet.id, article_id=original.article_id, kind=original.kind,
                    revision_id=original.revision_id, sequence=sequence, document=document,
                    created_at=now, next_attempt_at=now)


def cancel(actor: User, delivery_id: str) -> Delivery:
    """Stop a delivery that has not been sent yet (a takedown cannot be cancelled: outlets
    that had the article must get it)."""
    with transaction():
        delivery = get(delivery_id)
        locked(Outlet, delivery.outlet_id)
        delivery = locked(Delivery, delivery_id)
        if delivery.state != DeliveryState.PENDING:
            raise Conflict(f"Only a pending delivery can be cancelled; this one is {delivery.state.value}.",
                           state=delivery.state.value)
        if delivery.kind == DeliveryKind.TAKEDOWN:
            raise Conflict("A takedown cannot be cancelled.")
        delivery.state, delivery.ended_at = DeliveryState.CANCELLED, utcnow()
        delivery.last_error = f"cancelled by {actor.id}"
        audit.record(db.session.get(Article, delivery.article_id), actor, "delivery_cancelled",
                     details={"delivery_id": delivery.id, "outlet_id": delivery.outlet_id})
    return delivery

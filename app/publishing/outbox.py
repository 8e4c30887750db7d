"""The transactional outbox: deliveries are created in the transaction of the change.

A publish, update or takedown adds one delivery per outlet concerned before its
transaction commits, so either the change and its deliveries both exist or neither does;
the task that sends them is queued only after the commit (and the sweeper queues it
again if that message is lost). Each delivery carries the document as of the change and
the outlet's next sequence number, taken under the outlet's row lock.
"""

from sqlalchemy import select

from app.extensions import db
from app.models import (
    Article,
    Delivery,
    DeliveryKind,
    DeliveryState,
    Outlet,
    OutletKind,
    utcnow,
)
from app.platform import jobs, task_names
from app.publishing.formats import ninjs


def on_live_change(article: Article) -> None:
    """What is live changed (published, corrected, a promoted headline): outlets that hold
    the article get an update, outlets that should get it get a publish."""
    if not article.is_live:
        return
    now = utcnow()
    latest = _latest_deliveries(article)
    for outlet in _locked(_outlets_for(article, latest)):
        last = latest.get(outlet.id)
        holds_it = last is not None and last.kind != DeliveryKind.TAKEDOWN
        _add(outlet, article, DeliveryKind.UPDATE if holds_it else DeliveryKind.PUBLISH, now)


def on_takedown(article: Article) -> None:
    """Every outlet that has (or was about to get) the article gets a takedown; versions
    still waiting for their turn are cancelled, as the takedown supersedes them."""
    now = utcnow()
    latest = _latest_deliveries(article)
    holding = [outlet_id for outlet_id, last in latest.items() if last.kind != DeliveryKind.TAKEDOWN]
    for outlet in _locked(holding):
        _cancel_waiting(outlet, article, now)
        _add(outlet, article, DeliveryKind.TAKEDOWN, now)


def _outlets_for(article: Article, latest: dict[str, Delivery]) -> list[str]:
    """Enabled outlets whose filters take the article, and those that already hold it
    (a correction must reach them even if it no longer matches their filters)."""
    ids = {outlet.id for outlet in db.session.scalars(select(Outlet).where(Outlet.enabled))
           if matches(outlet.filters or {}, article)}
    holding = {outlet_id for outlet_id, last in latest.items() if last.kind != DeliveryKind.TAKEDOWN}
    return sorted(ids | holding)


def matches(filters: dict, article: Article) -> bool:
    """Empty filters match everything; a language filter 'ar' also takes 'ar-EG'."""
    languages = filters.get("languages") or []
    if languages and not any(article.language == tag or article.language.startswith(f"{tag}-")
                             for tag in languages):
        return False
    tags = filters.get("tags") or []
    if tags and not set(tags) & set(article.tags or []):
        return False
    sources = filters.get("sources") or []
    return not sources or article.source_name in sources


def _latest_deliveries(article: Article) -> dict[str, Delivery]:
    """Outlet id -> its latest non-cancelled delivery of ``article``."""
    deliveries = db.session.scalars(
        select(Delivery).where(Delivery.article_id == article.id,
                               Delivery.state != DeliveryState.CANCELLED)
        .order_by(Delivery.sequence))
    return {delivery.outlet_id: delivery for delivery in deliveries}


def _locked(outlet_ids: list[str]) -> list[Outlet]:
    """The outlets, row-locked in id order (one order everywhere, so no deadlocks)."""
    if not outlet_ids:
        return []
    query = (select(Outlet).where(Outlet.id.in_(outlet_ids)).order_by(Outlet.id)
             .with_for_update().execution_options(populate_existing=True))
    return list(db.session.scalars(query))


def _cancel_waiting(outlet: Outlet, article: Article, now) -> None:
    waiting = db.session.scalars(select(Delivery).where(
        Delivery.outlet_id == outlet.id, Delivery.article_id == article.id,
        Delivery.state == DeliveryState.PENDING).with_for_update())
    for delivery in waiting:
        delivery.state = DeliveryState.CANCELLED
        delivery.last_error = "superseded by a takedown"
        delivery.ended_at = now


def _add(outlet: Outlet, article: Article, kind: DeliveryKind, now) -> None:
    sequence = outlet.next_sequence
    outlet.next_sequence += 1
    revision = article.live_revision
    headline = article.canonical_headline_text or (revision.headline if revision else "")
    delivery = Delivery(outlet_id=outlet.id, article_id=article.id, kind=kind, sequence=sequence,
                        revision_id=revision.id if revision and kind != DeliveryKind.TAKEDOWN else None,
                        document=ninjs.document(article, revision, headline, kind.value, sequence, now),
                        created_at=now, next_attempt_at=now)
    if outlet.kind == OutletKind.FEED:  # the feed reads it from here: nothing to send
        delivery.state, delivery.delivered_at, delivery.ended_at = DeliveryState.DELIVERED, now, now
    db.session.add(delivery)
    db.session.flush()
    if outlet.kind == OutletKind.WEBHOOK:
        queue_after_commit(delivery.id)


def queue_after_commit(delivery_id: str) -> None:
    """Queue the delivery's task once the transaction that created it has committed."""
    jobs.enqueue_after_commit(task_names.DELIVER, delivery_id)


def queue(delivery_ids: list[str], countdown: float | None = None) -> None:
    """Send delivery tasks. A broker outage is logged, not raised: the outbox row is the
    record, and the sweeper queues it again once the broker is back."""
    for delivery_id in delivery_ids:
        if not jobs.try_enqueue(task_names.DELIVER, delivery_id, countdown=countdown):
            return

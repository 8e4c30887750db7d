"""Atom feeds of feed outlets: each article's latest version, newest first."""

from flask import current_app
from sqlalchemy import func, select

from app.errors import NotFound
from app.extensions import db
from app.models import Delivery, DeliveryKind, DeliveryState, Outlet, OutletKind
from app.publishing.formats import FEED_FORMATS


def feed_outlet(outlet_id: str) -> Outlet:
    outlet = db.session.get(Outlet, outlet_id)
    if outlet is None or outlet.kind != OutletKind.FEED or not outlet.enabled:
        raise NotFound(f"No feed {outlet_id}.")
    return outlet


def feed_url(outlet: Outlet) -> str:
    """The feed's public address, from PUBLIC_BASE_URL: never from a request's Host header,
    which would let a shared cache serve a poisoned feed id and self link to everyone."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/v1/feeds/{outlet.id}"


def version_tag(outlet: Outlet) -> str:
    """Changes whenever a delivery is added to the outlet: the feed's ETag."""
    return f"{outlet.id}-{outlet.next_sequence}"


def render(outlet: Outlet) -> tuple[bytes, str]:
    """(document, media type) of the outlet's feed."""
    latest = _latest_versions(outlet.id, current_app.config["FEED_MAX_ENTRIES"])
    docs = [delivery.document for delivery in latest if delivery.kind != DeliveryKind.TAKEDOWN]
    updated = latest[0].created_at if latest else outlet.created_at
    formatter = FEED_FORMATS[outlet.format]
    return formatter.render(outlet.name, feed_url(outlet), updated, docs), formatter.MEDIA_TYPE


def _latest_versions(outlet_id: str, limit: int) -> list[Delivery]:
    """The latest delivery of each of the outlet's most recently changed articles."""
    newest = (select(func.max(Delivery.sequence))
              .where(Delivery.outlet_id == outlet_id, Delivery.state == DeliveryState.DELIVERED)
              .group_by(Delivery.article_id))
    query = (select(Delivery).where(Delivery.outlet_id == outlet_id, Delivery.sequence.in_(newest))
             .order_by(Delivery.sequence.desc()).limit(limit))
    return list(db.session.scalars(query))

"""Sites: frontends that serve headlines and report events with a publishable key.

The key is public by design (it ships in page source, like Stripe's pk_ keys), so it is
stored as is; it only identifies the site for serving, events and rate limits.
"""

import secrets

from sqlalchemy import select

from app.errors import NotFound
from app.extensions import db
from app.models import Site
from app.platform.uow import transaction


def create_site(name: str) -> Site:
    with transaction() as session:
        site = Site(name=name, key=f"pk_{secrets.token_urlsafe(24)}")
        session.add(site)
    return site


def list_sites() -> list[Site]:
    return list(db.session.scalars(select(Site).order_by(Site.created_at, Site.id)))


def deactivate(site_id: str) -> None:
    with transaction():
        site = db.session.get(Site, site_id)
        if site is None:
            raise NotFound(f"No site {site_id}.")
        site.is_active = False

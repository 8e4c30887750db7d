"""Moving the live revision: the one place that publishes and takes down."""

from datetime import datetime

from app.errors import Conflict
from app.extensions import db
from app.models import Article, HeadlineCandidate
from app.publishing import outbox


def publish(article: Article, now: datetime, *, scheduled_for: datetime | None = None) -> None:
    """Make the approved revision live. ``scheduled_for`` records how late the scheduler was."""
    if article.approved_revision_id is None or \
            article.approved_revision_id != article.latest_revision_id:
        raise Conflict("Only the approved revision can be published; approve the latest first.")
    article.live_revision_id = article.approved_revision_id
    article.live_headline_ids = list(article.approved_headline_ids)
    _keep_canonical_headline_if_live(article)
    article.published_at = article.published_at or now
    article.last_published_at = now
    article.publish_at = None
    article.publish_lateness_seconds = (
        (now - scheduled_for).total_seconds() if scheduled_for else None
    )
    outbox.on_live_change(article)


def _keep_canonical_headline_if_live(article: Article) -> None:
    """A promoted headline survives a correction only if it is still approved (with its
    text as approved now); otherwise the revision's headline is the headline again."""
    if article.canonical_headline_id in article.live_headline_ids:
        candidate = db.session.get(HeadlineCandidate, article.canonical_headline_id)
        article.canonical_headline_text = candidate.text
    else:
        article.canonical_headline_id = article.canonical_headline_text = None


def take_down(article: Article) -> None:
    outbox.on_takedown(article)
    article.live_revision_id = None
    article.live_headline_ids = []
    article.publish_at = None


def check_embargo(article: Article, when: datetime) -> None:
    if article.embargo_until and when < article.embargo_until:
        raise Conflict(
            f"The article is embargoed until {article.embargo_until.isoformat()}.",
            embargo_until=article.embargo_until.isoformat(),
        )


def notify_update(article: Article) -> None:
    """A change of a live article outside review (a promoted headline) reaches outlets."""
    outbox.on_live_change(article)

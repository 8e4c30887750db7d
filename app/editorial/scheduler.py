"""Publishing scheduled articles when they fall due, safely from any number of workers.

Each due article is claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite
locks the whole database instead) and published in its own transaction, so two runs never
publish the same article and a crash loses at most the article in hand, which the next
run picks up. An unschedule racing the job either commits first (the row is no longer
'scheduled' when the job re-reads it) or waits for the job's lock and then finds the
article published.
"""

import logging

from sqlalchemy import or_, select

from app.editorial import transitions
from app.metrics import SCHEDULER_LATENESS
from app.models import Article, ArticleState, utcnow
from app.platform.uow import transaction

log = logging.getLogger(__name__)


def publish_due(batch_size: int) -> list[str]:
    """Publish up to ``batch_size`` due articles; returns their ids."""
    published = []
    for _ in range(batch_size):
        article_id = _publish_next_due()
        if article_id is None:
            break
        published.append(article_id)
    return published


def _publish_next_due() -> str | None:
    with transaction() as session:
        now = utcnow()
        query = (
            select(Article)
            .where(Article.state == ArticleState.SCHEDULED, Article.publish_at <= now,
                   Article.deleted_at.is_(None),
                   or_(Article.embargo_until.is_(None), Article.embargo_until <= now))
            .order_by(Article.publish_at, Article.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        article = session.scalar(query.execution_options(populate_existing=True))
        if article is None:
            return None
        transitions.publish_scheduled(article, now)
    log.info("scheduled publish article=%s lateness_seconds=%.3f", article.id,
             article.publish_lateness_seconds)
    SCHEDULER_LATENESS.observe(article.publish_lateness_seconds)
    return article.id

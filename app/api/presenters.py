"""What article responses carry besides the row: the caller's allowed actions, the ETag."""

from dataclasses import dataclass

from app.api.auth import current_user
from app.api.http import etag_for
from app.editorial import policy
from app.models import Article
from app.platform.pagination import Page


@dataclass
class ArticleView:
    article: Article
    allowed_actions: list[str]

    def __getattr__(self, name: str):
        return getattr(self.article, name)


def present(article: Article) -> ArticleView:
    return ArticleView(article, policy.allowed_actions(current_user(), article))


def present_page(page: Page) -> Page:
    return Page([present(a) for a in page.items], page.next_cursor)


def with_etag(article: Article, status: int = 200, extra: dict | None = None):
    """(body, status, headers) for flask-smorest: the article, its ETag and ``extra``."""
    return present(article), status, {"ETag": etag_for(article.version), **(extra or {})}

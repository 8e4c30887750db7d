"""Reading revisions and diffing any two of them, line by line."""

import difflib

from sqlalchemy import select

from app.errors import NotFound
from app.extensions import db
from app.models import REVISION_FIELDS, ArticleRevision
from app.platform.pagination import Page, paginate


def list_revisions(article_id: str, limit: int, cursor: str | None) -> Page:
    query = select(ArticleRevision).where(ArticleRevision.article_id == article_id)
    return paginate(query, ArticleRevision.number, ArticleRevision.id, "number", limit, cursor,
                    db.session)


def get_revision(article_id: str, number: int) -> ArticleRevision:
    revision = db.session.scalar(
        select(ArticleRevision).where(
            ArticleRevision.article_id == article_id, ArticleRevision.number == number
        )
    )
    if revision is None:
        raise NotFound(f"Article {article_id} has no revision {number}.")
    return revision


def diff_revisions(article_id: str, old_number: int, new_number: int) -> dict:
    old, new = get_revision(article_id, old_number), get_revision(article_id, new_number)
    changes = {}
    for field in REVISION_FIELDS:
        before, after = getattr(old, field).splitlines(), getattr(new, field).splitlines()
        if before != after:
            changes[field] = _line_diff(field, old_number, new_number, before, after)
    return {"from_revision": old, "to_revision": new, "fields": changes}


def _line_diff(field: str, old_number: int, new_number: int, before: list[str],
               after: list[str]) -> dict:
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    hunks = [
        {"op": op, "from_line": i1 + 1, "from_lines": before[i1:i2],
         "to_line": j1 + 1, "to_lines": after[j1:j2]}
        for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal"
    ]
    unified = difflib.unified_diff(
        before, after, f"{field}@{old_number}", f"{field}@{new_number}", lineterm=""
    )
    return {"hunks": hunks, "unified": "\n".join(unified)}

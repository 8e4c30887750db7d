"""Who may do what to articles, declared as data."""

from app.errors import Forbidden
from app.models import Article, Role, User

# action -> roles that may take it on any article
ANY_ARTICLE = {
    "read": {Role.WRITER, Role.EDITOR, Role.ADMIN},
    "create": {Role.WRITER, Role.EDITOR, Role.ADMIN},
    "edit": {Role.EDITOR, Role.ADMIN},
    "delete": {Role.EDITOR, Role.ADMIN},
    "experiment": {Role.EDITOR, Role.ADMIN},  # start, pause, resume, stop, pick a winner
}
# action -> roles that may take it on an article they wrote or are assigned to
OWN_ARTICLE = {
    "edit": {Role.WRITER},
    "delete": {Role.WRITER},
}


def allowed(actor: User, action: str, article: Article | None = None) -> bool:
    if actor.role in ANY_ARTICLE.get(action, set()):
        return True
    owns = article is not None and actor.id in (article.author_id, article.assignee_id)
    return owns and actor.role in OWN_ARTICLE.get(action, set())


def authorize(actor: User, action: str, article: Article | None = None) -> None:
    if not allowed(actor, action, article):
        raise Forbidden(f"Your role ({actor.role}) may not {action} this article.")

"""Who may do what, declared as data, in one place.

Three kinds of question, one module: which roles a route needs (``CAPABILITIES``, named by
each view's ``login_required``), what a user may do to an article (``ANY_ARTICLE`` and
``OWN_ARTICLE``), and which workflow actions they may take now (the workflow's table plus
the four-eyes setting, read here so no caller passes it down).
"""

from flask import current_app

from app.editorial import workflow
from app.errors import Forbidden
from app.models import Article, Role, User

EVERYONE = frozenset(Role)
EDITORS = frozenset({Role.EDITOR, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})

# capability a view names -> roles that have it
CAPABILITIES: dict[str, frozenset[Role]] = {
    "newsroom": EVERYONE,  # articles, revisions, comments, headlines, imports, own tokens
    "review": EDITORS,  # the review queue
    "experiments": EDITORS,  # start, pause, resume, stop a test; pick a winner
    "outlets:read": EDITORS,  # outlets, their health, the delivery log
    "deliveries": EDITORS,  # redeliver, cancel
    "outlets:manage": ADMINS,
    "sites": ADMINS,
    "users": ADMINS,
    "operations": ADMINS,  # worker probes, event metrics, /metrics
}

# action -> roles that may take it on any article
ANY_ARTICLE = {
    "read": EVERYONE,
    "create": EVERYONE,
    "edit": EDITORS,
    "delete": EDITORS,
    "experiment": CAPABILITIES["experiments"],
}
# action -> roles that may take it on an article they wrote or are assigned to
OWN_ARTICLE = {
    "edit": {Role.WRITER},
    "delete": {Role.WRITER},
}


def allowed(actor: User, action: str, article: Article | None = None) -> bool:
    if actor.role in ANY_ARTICLE.get(action, frozenset()):
        return True
    owns = article is not None and workflow.owns(actor, article)
    return owns and actor.role in OWN_ARTICLE.get(action, frozenset())


def authorize(actor: User, action: str, article: Article | None = None) -> None:
    if not allowed(actor, action, article):
        raise Forbidden(f"Your role ({actor.role}) may not {action} this article.")


def roles_for(capability: str) -> frozenset[Role]:
    return CAPABILITIES[capability]


def workflow_refusal(actor: User, article: Article, action: str) -> workflow.Refusal | None:
    """Why ``actor`` may not take ``action`` now (None: they may)."""
    return workflow.check(actor, article, action, four_eyes=current_app.config["FOUR_EYES_REQUIRED"])


def allowed_actions(actor: User, article: Article) -> list[str]:
    """The workflow actions ``actor`` may take on ``article`` (or its record) now."""
    situation = workflow.situation(actor, article)
    return list(workflow.allowed_actions(situation, current_app.config["FOUR_EYES_REQUIRED"]))

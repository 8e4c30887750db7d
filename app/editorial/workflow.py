"""The review workflow, declared as data. Nothing else in the code decides transitions.

Each action names the states it may start from, the roles that may take it and the state
it leads to, plus the rules that go with it. ``check`` returns why an action is refused
(or None); ``allowed_actions`` lists what a caller may do now. Edits have their own rule
(``state_after_edit``): editing approved or scheduled copy sends it back to review, and
editing live copy starts a correction while the live revision keeps being served.
"""

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import NamedTuple

from app.models import Article, ArticleState, Role, User

S = ArticleState
EDITORS = frozenset({Role.EDITOR, Role.ADMIN})
EVERYONE = frozenset({Role.WRITER, Role.EDITOR, Role.ADMIN})


class Refusal(StrEnum):
    """Why an action is refused; the API maps ROLE and FOUR_EYES/OWNER to 403, the rest to 409."""

    ROLE = "role"
    OWNER = "owner"
    FOUR_EYES = "four_eyes"
    STATE = "state"
    NOT_LIVE = "not_live"
    LIVE = "live"


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[ArticleState]
    target: ArticleState
    roles: frozenset[Role]
    own_only: frozenset[Role] = frozenset()  # these roles may act only on their own/assigned copy
    four_eyes: bool = False  # no one who wrote part of the content since its last approval
    needs_comment: bool = False
    needs_publish_at: bool = False
    live: bool | None = None  # True: only while live; False: only while not live
    publishes: bool = False


MACHINE: dict[str, Transition] = {t.action: t for t in (
    Transition("submit", frozenset({S.DRAFT, S.CHANGES_REQUESTED}), S.IN_REVIEW, EVERYONE,
               own_only=frozenset({Role.WRITER})),
    Transition("approve", frozenset({S.IN_REVIEW}), S.APPROVED, EDITORS, four_eyes=True),
    Transition("request_changes", frozenset({S.IN_REVIEW}), S.CHANGES_REQUESTED, EDITORS,
               needs_comment=True),
    Transition("schedule", frozenset({S.APPROVED}), S.SCHEDULED, EDITORS, four_eyes=True,
               needs_publish_at=True),
    Transition("unschedule", frozenset({S.SCHEDULED}), S.APPROVED, EDITORS),
    Transition("publish", frozenset({S.APPROVED, S.SCHEDULED}), S.PUBLISHED, EDITORS,
               four_eyes=True, publishes=True),
    Transition("unpublish", frozenset({S.PUBLISHED, S.DRAFT, S.IN_REVIEW, S.CHANGES_REQUESTED,
                                       S.APPROVED, S.SCHEDULED}), S.UNPUBLISHED, EDITORS, live=True),
    Transition("archive", frozenset({S.DRAFT, S.CHANGES_REQUESTED, S.UNPUBLISHED}), S.ARCHIVED,
               EDITORS, live=False),
    Transition("restore", frozenset({S.ARCHIVED}), S.DRAFT, EDITORS),
)}

ACTIONS = tuple(MACHINE)
# The actions a state lets anyone take (in ACTIONS order): the others need no check.
ACTIONS_FROM = {state: tuple(a for a in ACTIONS if state in MACHINE[a].sources) for state in S}

# Where a change of the content (text, language, tags) leaves the working copy.
STATE_AFTER_EDIT = {
    S.APPROVED: S.IN_REVIEW,
    S.SCHEDULED: S.IN_REVIEW,
    S.PUBLISHED: S.DRAFT,  # a correction: the live revision is still what outlets have
    S.UNPUBLISHED: S.DRAFT,
}
NOT_EDITABLE = frozenset({S.ARCHIVED})
# States whose content was approved (a change of it starts a new round of review).
APPROVED_CONTENT = frozenset({S.APPROVED, S.SCHEDULED, S.PUBLISHED})


def owns(actor: User, article: Article) -> bool:
    return actor.id in (article.author_id, article.assignee_id)


class Situation(NamedTuple):
    """All the rules look at: the caller's role and part in the article, and its state."""

    role: Role
    owner: bool  # wrote it or is assigned to it
    contributor: bool  # wrote part of the content since its last approval
    state: ArticleState
    live: bool


def situation(actor: User, article: Article) -> Situation:
    return Situation(actor.role, owns(actor, article), actor.id in article.contributor_ids,
                     article.state, article.is_live)


def check(actor: User, article: Article, action: str, *, four_eyes: bool) -> Refusal | None:
    """Why ``actor`` may not take ``action`` on ``article`` now, or None if they may."""
    return refusal(situation(actor, article), action, four_eyes)


def refusal(now: Situation, action: str, four_eyes: bool) -> Refusal | None:
    rule = MACHINE[action]
    if now.role not in rule.roles:
        return Refusal.ROLE
    if now.role in rule.own_only and not now.owner:
        return Refusal.OWNER
    if now.state not in rule.sources:
        return Refusal.STATE
    if rule.live is True and not now.live:
        return Refusal.NOT_LIVE
    if rule.live is False and now.live:
        return Refusal.LIVE
    if rule.four_eyes and four_eyes and now.contributor:
        return Refusal.FOUR_EYES
    return None


@cache  # a few hundred situations at most; a page of 25 articles asks 25 times
def allowed_actions(now: Situation, four_eyes: bool) -> tuple[str, ...]:
    return tuple(action for action in ACTIONS_FROM[now.state]
                 if refusal(now, action, four_eyes) is None)


def state_after_edit(state: ArticleState) -> ArticleState:
    return STATE_AFTER_EDIT.get(state, state)

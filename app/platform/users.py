"""Users and API tokens. Tokens are random secrets stored only as their SHA-256.

A process keeps the tokens it recently found live (``TokenCache``): a request answers its
caller from there for ``TOKEN_CACHE_SECONDS`` without a query (the lookup was a third of
reading one article; bench/http_overhead.py). A revocation or a change of a user made
through this process clears the cache at once; one made through another process (another
gunicorn worker, the CLI) takes effect within ``TOKEN_CACHE_SECONDS``. 0 turns it off.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic

from flask import current_app
from sqlalchemy import bindparam, func, inspect, select
from sqlalchemy.orm import joinedload, make_transient_to_detached

from app.errors import Conflict, Forbidden, NotFound, Unauthorized
from app.extensions import db
from app.models import ApiToken, Role, User, utcnow
from app.platform.uow import transaction

TOKEN_PREFIX = "mh_"
REFUSED = "The bearer token is unknown, revoked or expired."


def hash_token(secret: str) -> str:
    # The secret has 256 bits of entropy, so a fast hash is enough; a slow KDF
    # would only add latency to every request.
    return hashlib.sha256(secret.encode()).hexdigest()


def get_user(user_id: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    return user


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.created_at, User.id)))


def create_user(email: str, role: Role, name: str = "") -> User:
    email = email.strip().lower()
    with transaction() as session:
        if session.scalar(select(User.id).where(func.lower(User.email) == email)):
            raise Conflict(f"A user with e-mail {email} already exists.")
        user = User(email=email, role=Role(role), name=name)
        session.add(user)
    return user


def update_user(user_id: str, changes: dict) -> User:
    with transaction():
        user = get_user(user_id)
        for field in ("name", "role", "is_active"):
            if field in changes:
                setattr(user, field, changes[field])
        _keep_an_admin()
    _token_cache().clear()  # a new role or a deactivation applies to the next request
    return user


def _keep_an_admin() -> None:
    """Refuse a change that would leave the deployment without an active admin."""
    db.session.flush()
    query = select(User.id).where(User.role == Role.ADMIN, User.is_active.is_(True)).limit(1)
    if db.session.scalar(query) is None:
        raise Conflict("This would leave no active admin; promote another user first.")


@dataclass
class IssuedToken:
    """A new token and its secret: the only copy of the secret that will ever exist."""

    record: ApiToken
    secret: str

    def __getattr__(self, name: str):
        return getattr(self.record, name)


def issue_token(user: User, name: str = "", expires_in: timedelta | None = None) -> IssuedToken:
    """Create a token for ``user``; only its hash is stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = utcnow() + expires_in if expires_in else None
    with transaction() as session:
        token = ApiToken(
            user_id=user.id, name=name, token_hash=hash_token(secret), prefix=secret[:10],
            expires_at=expires_at,
        )
        session.add(token)
    return IssuedToken(token, secret)


def list_tokens(user_id: str) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user_id)
    return list(db.session.scalars(query.order_by(ApiToken.created_at, ApiToken.id)))


def revoke_token(user_id: str, token_id: str) -> None:
    with transaction():
        token = db.session.get(ApiToken, token_id)
        if token is None or token.user_id != user_id:
            raise NotFound(f"No token {token_id} for this user.")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
    _token_cache().clear()


# Built once: every request runs it, and SQLAlchemy caches the compiled form per statement.
_TOKEN_BY_HASH = select(ApiToken).options(joinedload(ApiToken.user)).where(
    ApiToken.token_hash == bindparam("token_hash"))


def authenticate(secret: str, touch_after: timedelta) -> tuple[str, User]:
    """The id of the live token ``secret`` is and its user (active, in this request's
    session); records last use at most once per ``touch_after``."""
    token_hash, cache = hash_token(secret), _token_cache()
    live = cache.get(token_hash)
    if live is None:
        live = LiveToken.of(_look_up(token_hash, touch_after))
        cache.put(token_hash, live)
    elif live.expires_at and live.expires_at <= utcnow():
        raise Unauthorized(REFUSED)
    # A copy of the cached user joins the session; the cached one stays out of every session.
    return live.token_id, db.session.merge(live.user, load=False)


@dataclass(frozen=True)
class LiveToken:
    """What a request needs of a live token: its id, its expiry and a detached copy of its
    user."""

    token_id: str
    expires_at: datetime | None
    user: User

    @classmethod
    def of(cls, token: ApiToken) -> "LiveToken":
        columns = inspect(User).column_attrs
        user = User(**{column.key: getattr(token.user, column.key) for column in columns})
        make_transient_to_detached(user)
        return cls(token.id, token.expires_at, user)


def _look_up(token_hash: str, touch_after: timedelta) -> ApiToken:
    token = db.session.scalar(_TOKEN_BY_HASH, {"token_hash": token_hash})
    now = utcnow()
    if token is None or token.revoked_at or (token.expires_at and token.expires_at <= now):
        raise Unauthorized(REFUSED)
    if not token.user.is_active:
        raise Unauthorized("The token's user is deactivated.")
    if _stale(token.last_used_at, now, touch_after):
        with transaction():
            token.last_used_at = now
    return token


class TokenCache:
    """Live tokens by hash, each trusted ``ttl`` seconds from its lookup; at most ``size``."""

    def __init__(self, ttl: float, size: int = 10_000):
        self.ttl, self.size = ttl, size
        self._entries: dict[str, tuple[float, LiveToken]] = {}

    def get(self, token_hash: str) -> LiveToken | None:
        entry = self._entries.get(token_hash)
        if entry is None or monotonic() - entry[0] >= self.ttl:
            return None
        return entry[1]

    def put(self, token_hash: str, token: LiveToken) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.size:
            self._entries.clear()  # rare (10,000 live tokens in one process): start over
        self._entries[token_hash] = (monotonic(), token)

    def clear(self) -> None:
        self._entries.clear()


def _token_cache() -> TokenCache:
    extensions = current_app.extensions
    if "token_cache" not in extensions:
        extensions["token_cache"] = TokenCache(current_app.config["TOKEN_CACHE_SECONDS"])
    return extensions["token_cache"]


def _stale(last: datetime | None, now: datetime, interval: timedelta) -> bool:
    return last is None or now - last >= interval


def require_self_or_admin(actor: User, user_id: str) -> None:
    if actor.role != Role.ADMIN and actor.id != user_id:
        raise Forbidden("Only admins can manage other users' tokens.")


def ensure_admin(email: str) -> tuple[User, str] | None:
    """Create an admin and a token when the deployment has no admin yet."""
    if db.session.scalar(select(User.id).where(User.role == Role.ADMIN).limit(1)):
        return None
    user = create_user(email, Role.ADMIN, name="Administrator")
    return user, issue_token(user, name="bootstrap").secret

"""Users and API tokens. Tokens are random secrets stored only as their SHA-256."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from app.errors import Conflict, Forbidden, NotFound, Unauthorized
from app.extensions import db
from app.models import ApiToken, Role, User, utcnow
from app.platform.uow import transaction

TOKEN_PREFIX = "mh_"


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


# Built once: every request runs it, and SQLAlchemy caches the compiled form per statement.
_TOKEN_BY_HASH = select(ApiToken).options(joinedload(ApiToken.user)).where(
    ApiToken.token_hash == bindparam("token_hash"))


def authenticate(secret: str, touch_after: timedelta) -> ApiToken:
    """The live token ``secret`` is (its ``user`` active); records last use at most once
    per ``touch_after``."""
    token = db.session.scalar(_TOKEN_BY_HASH, {"token_hash": hash_token(secret)})
    now = utcnow()
    if token is None or token.revoked_at or (token.expires_at and token.expires_at <= now):
        raise Unauthorized("The bearer token is unknown, revoked or expired.")
    if not token.user.is_active:
        raise Unauthorized("The token's user is deactivated.")
    if _stale(token.last_used_at, now, touch_after):
        with transaction():
            token.last_used_at = now
    return token


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

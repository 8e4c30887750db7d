"""Bearer-token authentication and role checks, applied to every /v1 route."""

from datetime import timedelta
from functools import wraps

from flask import current_app, g, request

from app.errors import Forbidden, Unauthorized
from app.models import Role, User
from app.services import users as user_service

ALL_ROLES = (Role.WRITER, Role.EDITOR, Role.ADMIN)


def current_user() -> User:
    return g.current_user


def _bearer_secret() -> str:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("Send 'Authorization: Bearer <token>'.")
    return secret.strip()


def login_required(*roles: Role):
    """Authenticate the caller, then require one of ``roles`` (all roles if none given)."""
    permitted = set(roles or ALL_ROLES)

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            touch = timedelta(seconds=current_app.config["TOKEN_TOUCH_SECONDS"])
            user = user_service.authenticate(_bearer_secret(), touch)
            if user.role not in permitted:
                raise Forbidden(f"This needs one of the roles: {', '.join(sorted(permitted))}.")
            g.current_user = user
            return view(*args, **kwargs)

        return wrapper

    return decorator

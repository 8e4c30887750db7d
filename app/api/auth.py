"""Bearer-token authentication and role checks, applied to every /v1 route.

``login_required`` declares a view's roles on the view; ``check_access`` (a before-request
hook that runs before rate limits and before any body is read) authenticates the caller
and checks those roles, so an anonymous or unauthorised request costs a token lookup,
never the parsing of a 10 MiB body. A failed authentication counts against the client
address's budget (app/api/limits.py), so invented tokens cannot be tried for free.
"""

from datetime import timedelta
from functools import wraps

from flask import current_app, g, request

from app.editorial import policy
from app.errors import Forbidden, Unauthorized
from app.experiments import serving
from app.models import Role, User
from app.platform import users as user_service


def current_user() -> User:
    return g.current_user


def handler():
    """The function that will answer this request (a MethodView's method), or None."""
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, request.method.lower(), None) if view_class else view


def _bearer_secret() -> str:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("Send 'Authorization: Bearer <token>'.")
    return secret.strip()


def _authenticated() -> User:
    """The caller, authenticated once per request (the token's id kept for rate limits)."""
    if "current_user" not in g:
        touch = timedelta(seconds=current_app.config["TOKEN_TOUCH_SECONDS"])
        g.token_id, g.current_user = user_service.authenticate(_bearer_secret(), touch)
    return g.current_user


def _require_role(user: User, permitted: frozenset[Role]) -> None:
    if user.role not in permitted:
        raise Forbidden(f"This needs one of the roles: {', '.join(sorted(permitted))}.")


def login_required(capability: str = "newsroom"):
    """Authenticate the caller, then require the roles that have ``capability`` (the policy's
    table); by default any signed-in role."""
    permitted = policy.roles_for(capability)

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            _require_role(_authenticated(), permitted)
            return view(*args, **kwargs)

        wrapper.login_roles = permitted  # outer decorators copy it (functools.wraps)
        return wrapper

    return decorator


class SiteKeyRequired(Unauthorized):
    def headers(self) -> dict | None:
        return {"WWW-Authenticate": 'SiteKey realm="masthead", param="key"'}


def site_key_required(view):
    """A public view: a site's publishable key in ``?key=``, and that site's rate limit."""
    view.site_key_required = True
    return view


def _check_site_key() -> None:
    snapshot = serving.cache().get()
    key = request.args.get("key", "")
    if key not in snapshot.sites:
        raise SiteKeyRequired("Send a site's publishable key as ?key=pk_...; this one is unknown "
                              "or inactive.")
    current_app.extensions["public_limiter"].hit(key, request.remote_addr,
                                                 current_app.config["PUBLIC_RATE_LIMIT_PER_MINUTE"])
    g.snapshot = snapshot  # the public views answer from it


def check_access() -> None:
    """Before-request: authenticate the caller of a view that declares who may call it."""
    view = handler()
    roles = getattr(view, "login_roles", None)
    if roles is None and not getattr(view, "site_key_required", False):
        return
    try:
        user = _authenticated() if roles is not None else None
        if user is None:
            _check_site_key()
    except Unauthorized:
        current_app.extensions["failed_auth_limiter"].hit(request.remote_addr)
        raise
    if user is not None:
        _require_role(user, roles)

"""What browsers see: security headers on every response, and CORS for frontends.

The API answers JSON (and an SVG chart, an Atom feed, the docs page), so the default
policy forbids everything a page could load or frame; the docs page and the chart get
the little more they need. CORS is off for the editorial API unless CORS_ORIGINS lists
origins; the public serving, event and feed endpoints take PUBLIC_CORS_ORIGINS ("*" by
default: they carry a publishable key, never a cookie). Credentials are never allowed.
"""

from flask import Flask, current_app, request
from flask_cors import CORS

from app.api import docs

DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The chart labels headlines with an inline style (bidi isolation); it runs no script.
CSP_BY_ENDPOINT = {
    "experiments.ExperimentChart": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "docs.page": docs.CSP,
}
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
HEADER_ITEMS = list(HEADERS.items())
PUBLIC_PATHS = r"/v1/(serve/.*|events|feeds/.*)"
EDITORIAL_PATHS = r"/v1/.*"
REQUEST_HEADERS = ["Authorization", "Content-Type", "If-Match", "If-None-Match", "Idempotency-Key",
                   "X-Request-ID"]
EXPOSED_HEADERS = ["ETag", "Link", "Location", "Retry-After", "X-Request-ID", "Idempotent-Replayed",
                   "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"]


def init_browser_policy(app: Flask) -> None:
    app.after_request(add_security_headers)  # registered first, so it runs after CORS's
    resources = {PUBLIC_PATHS: {"origins": _origins(app.config["PUBLIC_CORS_ORIGINS"])}}
    editorial = _origins(app.config["CORS_ORIGINS"])
    if editorial:
        resources[EDITORIAL_PATHS] = {"origins": editorial}
    CORS(app, resources=resources, supports_credentials=False, allow_headers=REQUEST_HEADERS,
         expose_headers=EXPOSED_HEADERS, max_age=600, vary_header=True)
    skip_on_hot_path(app.after_request_funcs[None], "cors_after_request")
    app.after_request(_public_cors)  # runs before flask-cors's hook, which it stands in for


def skip_on_hot_path(hooks: list, name: str) -> None:
    """Wrap the hook called ``name`` so it does not run for public serving and events.

    Those do the same jobs with a dictionary lookup (``_public_cors``, PublicLimiter), as
    the public hot path does (app/api/public_wsgi.py): a public answer has the same headers
    whether that path or Flask gives it.
    """
    for index, hook in enumerate(hooks):
        if _name(hook) == name:
            hooks[index] = _unless_hot(hook)


def _unless_hot(hook):
    def guarded(*args):
        if request.blueprint == "public" and request.method != "OPTIONS":
            return args[0] if args else None
        return hook(*args)
    return guarded


def _name(hook) -> str:
    return getattr(hook, "__name__", None) or getattr(getattr(hook, "func", None), "__name__", "")


def _public_cors(response):
    """CORS for public GETs and POSTs (flask-cors answers their preflights)."""
    origin = request.headers.get("Origin")
    if origin is None or request.blueprint != "public" or request.method == "OPTIONS":
        return response
    allowed = public_allowed_origin(origin, current_app.config["PUBLIC_CORS_ORIGINS"])
    if allowed is not None:
        response.headers["Access-Control-Allow-Origin"] = allowed
    return response


def public_allowed_origin(origin: str, allowed: str) -> str | None:
    """The Access-Control-Allow-Origin a public answer gets for ``origin``, if any."""
    if allowed.strip() == "*":
        return "*"
    return origin if origin in _origins(allowed) else None


def public_headers(origin: str | None, allowed: str) -> list[tuple[str, str]]:
    """What ``add_security_headers`` and ``_public_cors`` add to a public answer, for the
    public hot path that answers without Flask (app/api/public_wsgi.py)."""
    headers = [*HEADER_ITEMS, ("Content-Security-Policy", DEFAULT_CSP)]
    allow = None if origin is None else public_allowed_origin(origin, allowed)
    if allow is not None:
        headers.append(("Access-Control-Allow-Origin", allow))
        if allow != "*":
            headers.append(("Vary", "Origin"))
    return headers


def _origins(spec: str) -> list[str]:
    return [origin.strip() for origin in spec.split(",") if origin.strip()]


def add_security_headers(response):
    # One extend, not a lookup per header: no view sets these (this runs on the hot path).
    response.headers.extend(HEADER_ITEMS)
    response.headers["Content-Security-Policy"] = CSP_BY_ENDPOINT.get(request.endpoint or "", DEFAULT_CSP)
    if response.headers.get("Access-Control-Allow-Origin", "*") != "*":
        response.vary.add("Origin")  # the answer depends on the origin: caches must know
    return response

"""What browsers see: security headers on every response, and CORS for frontends.

The API answers JSON (and an SVG chart, an Atom feed, the docs page), so the default
policy forbids everything a page could load or frame; the docs page and the chart get
the little more they need. CORS is off for the editorial API unless CORS_ORIGINS lists
origins; the public serving, event and feed endpoints take PUBLIC_CORS_ORIGINS ("*" by
default: they carry a publishable key, never a cookie). Credentials are never allowed.
"""

from flask import Flask, request
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
PUBLIC_PATHS = r"/v1/(serve/.*|events|feeds/.*)"
EDITORIAL_PATHS = r"/v1/.*"
REQUEST_HEADERS = ["Authorization", "Content-Type", "If-Match", "If-None-Match", "Idempotency-Key",
                   "X-Request-ID"]
EXPOSED_HEADERS = ["ETag", "Link", "Location", "Retry-After", "X-Request-ID", "Idempotent-Replayed"]


def init_browser_policy(app: Flask) -> None:
    app.after_request(add_security_headers)  # registered first, so it runs after CORS's
    resources = {PUBLIC_PATHS: {"origins": _origins(app.config["PUBLIC_CORS_ORIGINS"])}}
    editorial = _origins(app.config["CORS_ORIGINS"])
    if editorial:
        resources[EDITORIAL_PATHS] = {"origins": editorial}
    CORS(app, resources=resources, supports_credentials=False, allow_headers=REQUEST_HEADERS,
         expose_headers=EXPOSED_HEADERS, max_age=600, vary_header=True)


def _origins(spec: str) -> list[str]:
    return [origin.strip() for origin in spec.split(",") if origin.strip()]


def add_security_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    policy = CSP_BY_ENDPOINT.get(request.endpoint or "", DEFAULT_CSP)
    response.headers.setdefault("Content-Security-Policy", policy)
    if response.headers.get("Access-Control-Allow-Origin", "*") != "*":
        response.vary.add("Origin")  # the answer depends on the origin: caches must know
    return response

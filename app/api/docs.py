"""/docs: an interactive API reference (Swagger UI) over /openapi.json, which is the same
document as openapi.yaml (tests/test_openapi.py keeps them equal). The Swagger UI files
come from the flask-swagger-ui package, so the page works offline: no CDN."""

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, send_from_directory
from werkzeug.exceptions import NotFound

SWAGGER_DIST = Path(flask_swagger_ui.__file__).parent / "dist"
PAGES = Path(__file__).parent / "docs_assets"
# Swagger UI sets inline style attributes; scripts come only from this origin's files.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
ASSETS = {"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"}

blp = Blueprint("docs", __name__)


@blp.get("/docs")
def page():
    """The reference page."""
    return send_from_directory(PAGES, "index.html", max_age=300)


@blp.get("/docs/init.js")
def initializer():
    return send_from_directory(PAGES, "init.js", max_age=300)


@blp.get("/docs/assets/<name>")
def asset(name: str):
    if name not in ASSETS:
        raise NotFound()
    return send_from_directory(SWAGGER_DIST, name, max_age=86400)

"""Masthead: the editorial workflow API. ``create_app`` is the only way in."""

import types

from flask import Flask

from app import logs, metrics
from app.api import docs, register_blueprints
from app.api.auth import check_access
from app.api.browser import init_browser_policy
from app.api.http import check_body, check_url, mark_reads_only
from app.api.limits import init_limits
from app.api.metrics import blp as metrics_blueprint
from app.api.public_wsgi import PublicWsgi
from app.cli import register_cli
from app.config import check_publishing, load_config
from app.errors import register_error_handlers
from app.experiments.serving import ServingCache
from app.extensions import db, init_api, init_celery

SECURITY = {
    "security": [{"bearerAuth": []}],
    "components": {"securitySchemes": {"bearerAuth": {
        "type": "http", "scheme": "bearer",
        "description": "An API token (mh_...) from `flask users create` or POST /v1/users/{id}/tokens",
    }, "siteKey": {
        "type": "apiKey", "in": "query", "name": "key",
        "description": "A site's publishable key (pk_...) from POST /v1/sites; public by design",
    }}},
}


class MastheadFlask(Flask):
    """Flask, remembering ensure_sync's answer per plain function.

    Flask asks it for every hook and every decorator layer on every request, and each
    answer costs an inspect.iscoroutinefunction; on the public hot path that added up to a
    sixth of the request. Bound methods (new per request) are not remembered.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync_functions: dict = {}

    def ensure_sync(self, func):
        if not isinstance(func, types.FunctionType):
            return super().ensure_sync(func)
        known = self._sync_functions.get(func)
        if known is None:
            known = self._sync_functions[func] = super().ensure_sync(func)
        return known


def create_app(config_override: dict | None = None) -> Flask:
    app = MastheadFlask(__name__)
    app.config.update(load_config())
    app.config.update(config_override or {})
    check_publishing(app.config)
    logs.configure(app.config["LOG_LEVEL"])
    app.json.sort_keys = False
    app.json.ensure_ascii = False  # Arabic stays readable UTF-8, not \uXXXX escapes
    app.config["API_SPEC_OPTIONS"] = SECURITY
    db.init_app(app)
    app.extensions["api"] = init_api(app)
    register_blueprints(app.extensions["api"])
    register_error_handlers(app)
    logs.init_request_ids(app)
    metrics.init_request_metrics(app)
    # Order matters: the URL, then who is calling, then their rate limit, then the body.
    app.before_request(check_url)
    app.before_request(mark_reads_only)
    app.before_request(check_access)
    init_browser_policy(app)
    init_limits(app)
    app.before_request(check_body)
    app.register_blueprint(metrics_blueprint)
    app.register_blueprint(docs.blp)
    app.extensions["serving"] = ServingCache(app)
    app.wsgi_app = PublicWsgi(app, app.wsgi_app)  # the public hot path answers before Flask
    init_celery(app)
    register_cli(app)
    return app

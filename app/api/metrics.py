"""Prometheus scrape endpoint, outside the versioned API and its OpenAPI document."""

import hmac

from flask import Blueprint, Response, current_app, request

from app import metrics
from app.api.auth import login_required
from app.metrics_state import StateCollector

blp = Blueprint("metrics", __name__)


@blp.get("/metrics")
def scrape():
    """Prometheus metrics: METRICS_TOKEN as a bearer token (for the scraper), or an admin's."""
    if _scraper_token_matches():
        return _exposition()
    return login_required("operations")(_exposition)()


def _scraper_token_matches() -> bool:
    expected = current_app.config["METRICS_TOKEN"]
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _exposition() -> Response:
    return Response(metrics.render(StateCollector()), mimetype="text/plain; version=0.0.4")

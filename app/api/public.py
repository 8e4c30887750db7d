"""Public endpoints for frontends: which headline each visitor sees, and their events.

Both are authenticated by a site's publishable key in the query string (so
``navigator.sendBeacon``, which cannot set headers, can report events: events are also
accepted as text/plain, the type a string beacon has), checked with the rate limit per
key and client address before any body is read (app/api/auth.py, app/api/limits.py),
and answered from the process's in-memory serving snapshot:
the hot path reads no database. Valid requests are answered by a lean WSGI app in front of
Flask (app/api/public_wsgi.py) that calls the same functions. Input is parsed by hand
rather than by marshmallow: a front page asks for dozens of articles and a batch carries
hundreds of events, and the schemas below still document both in the OpenAPI document.
"""

import json
import re
from collections.abc import Mapping

from flask import Response, current_app, g, request
from flask.views import MethodView

from app.api.auth import site_key_required
from app.api.http import ApiBlueprint, takes_body
from app.errors import ValidationFailed
from app.experiments import events, serving
from app.experiments.event_stores import event_store
from app.experiments.serving import Snapshot
from app.schemas.experiments import EventBatchSchema, EventReportSchema, ServedSchema

blp = ApiBlueprint("public", __name__, url_prefix="/v1", rate_limit="per_site_key",
                   description="Public headline serving and event reporting (site key)")
ARTICLE_IDS = re.compile(r"[0-9A-Za-z]{1,26}(,[0-9A-Za-z]{1,26})*\Z")
SITE_KEY = [{"siteKey": []}]
KEY_PARAM = {"in": "query", "name": "key", "required": True, "schema": {"type": "string"},
             "description": "The site's publishable key"}
SERVE_PARAMS = [
    {"in": "query", "name": "articles", "required": True, "schema": {"type": "string"},
     "description": "Comma-separated article ids (up to SERVING_MAX_ARTICLES)"},
    {"in": "query", "name": "visitor", "required": True,
     "schema": {"type": "string", "pattern": events.VISITOR_PATTERN},
     "description": "A stable, anonymous visitor id (e.g. from a first-party cookie)"},
]


SERVE_ARGS = frozenset({"articles", "visitor", "key"})
EVENT_ARGS = frozenset({"key"})


def check_args(args: Mapping[str, str], allowed: frozenset[str]) -> None:
    if not args.keys() <= allowed:
        raise ValidationFailed("Unknown query parameters.", errors=[
            {"location": "query", "field": f"/{name}", "message": "Unknown field."}
            for name in sorted(set(args) - allowed)])


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed.at(f"/{field}", message, detail="Invalid query parameter.",
                               location="query")


def _article_ids(raw: str | None, limit: int) -> list[str]:
    if not raw or not ARTICLE_IDS.match(raw):
        raise _invalid("articles", "Comma-separated article ids (letters and digits).")
    ids = list(dict.fromkeys(raw.split(",")))
    if len(ids) > limit:
        raise _invalid("articles", f"At most {limit} articles per request.")
    return ids


def front_page(snapshot: Snapshot, args: Mapping[str, str], config: Mapping) -> tuple[str, str]:
    """The serving answer for these query arguments: (JSON body, Cache-Control).

    Shared by the Flask view and the public hot path (app/api/public_wsgi.py)."""
    check_args(args, SERVE_ARGS)
    visitor = args.get("visitor", "")
    if not events.VISITOR.match(visitor):
        raise _invalid("visitor", "1-128 characters of A-Z a-z 0-9 . _ : ~ -.")
    point, items, missing = serving.visitor_hash(visitor), [], []
    for article_id in _article_ids(args.get("articles"), config["SERVING_MAX_ARTICLES"]):
        live = snapshot.articles.get(article_id)
        if live is None:
            missing.append(article_id)
        else:
            items.append(live.item_for(point))
    body = (f'{{"items":[{",".join(items)}],"missing":{json.dumps(missing)},'
            f'"engaged_seconds":{config["ENGAGED_SECONDS"]}}}')
    return body, f"private, max-age={config['SERVING_CACHE_SECONDS']}"


# Valid requests to both routes are answered by app/api/public_wsgi.py before Flask; these
# views answer what it hands over (HEAD, unusual bodies) and document the routes.
@blp.route("/serve/headlines", methods=["GET"])
@blp.doc(security=SITE_KEY, parameters=[*SERVE_PARAMS, KEY_PARAM], responses={
    "200": {"description": "OK", "content": {"application/json": {"schema": ServedSchema}},
            "headers": {"Cache-Control": {"description": "private, max-age=SERVING_CACHE_SECONDS",
                                          "schema": {"type": "string"}}}},
    "429": "TOO_MANY_REQUESTS"})
@site_key_required
def serve_headlines():
    """Which headline this visitor sees for each article (public, site key)"""
    body, cache_control = front_page(g.snapshot, request.args, current_app.config)
    return Response(body, mimetype="application/json", headers={"Cache-Control": cache_control})


@blp.route("/events")
class Events(MethodView):
    @blp.doc(security=SITE_KEY, parameters=[KEY_PARAM], requestBody={
        "required": True, "content": {"application/json": {"schema": EventBatchSchema}}})
    @blp.response(200, EventReportSchema)
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @site_key_required
    @takes_body(limit="EVENTS_MAX_BYTES", text_as_json=True)
    def post(self):
        """Report a batch of impressions, clicks and engaged reads (public, site key)"""
        check_args(request.args, EVENT_ARGS)
        report = events.ingest(g.get("json_body"), g.snapshot, event_store())
        return Response(json.dumps(report), mimetype="application/json")

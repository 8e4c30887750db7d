"""Public endpoints for frontends: which headline each visitor sees, and their events.

Both are authenticated by a site's publishable key in the query string (so
``navigator.sendBeacon``, which cannot set headers, can report events: events are also
accepted as text/plain, the type a string beacon has), checked with the rate limit per
key and client address before any body is read (app/api/auth.py, app/api/limits.py),
and answered from the process's in-memory serving snapshot:
the hot path reads no database. Input is parsed by hand rather than by marshmallow: a
front page asks for dozens of articles and a batch carries hundreds of events, and the
schemas below still document both in the OpenAPI document.
"""

import json
import re

from flask import Response, current_app, g, request
from flask.views import MethodView

from app.api.auth import site_key_required
from app.api.http import ApiBlueprint, takes_body
from app.errors import ValidationFailed
from app.experiments import events, serving
from app.experiments.event_stores import event_store
from app.schemas.experiments import EventBatchSchema, EventReportSchema, ServedSchema

blp = ApiBlueprint("public", __name__, url_prefix="/v1",
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


def _args(allowed: set[str]):
    args = request.args
    if not args.keys() <= allowed:
        raise ValidationFailed("Unknown query parameters.", errors=[
            {"location": "query", "field": f"/{name}", "message": "Unknown field."}
            for name in sorted(set(args) - allowed)])
    return args


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed("Invalid query parameter.", errors=[
        {"location": "query", "field": f"/{field}", "message": message}])


def _article_ids(raw: str | None) -> list[str]:
    limit = current_app.config["SERVING_MAX_ARTICLES"]
    if not raw or not ARTICLE_IDS.match(raw):
        raise _invalid("articles", "Comma-separated article ids (letters and digits).")
    ids = list(dict.fromkeys(raw.split(",")))
    if len(ids) > limit:
        raise _invalid("articles", f"At most {limit} articles per request.")
    return ids


# A function view with one documentation layer: each flask-smorest decorator adds a
# wrapper per request, and this is the hottest endpoint there is.
@blp.route("/serve/headlines", methods=["GET"])
@blp.doc(security=SITE_KEY, parameters=[*SERVE_PARAMS, KEY_PARAM], responses={
    "200": {"description": "OK", "content": {"application/json": {"schema": ServedSchema}},
            "headers": {"Cache-Control": {"description": "private, max-age=SERVING_CACHE_SECONDS",
                                          "schema": {"type": "string"}}}},
    "429": "TOO_MANY_REQUESTS"})
@site_key_required
def serve_headlines():
    """Which headline this visitor sees for each article (public, site key)"""
    args = _args({"articles", "visitor", "key"})
    snapshot = g.snapshot
    visitor = args.get("visitor", "")
    if not events.VISITOR.match(visitor):
        raise _invalid("visitor", "1-128 characters of A-Z a-z 0-9 . _ : ~ -.")
    point, items, missing = serving.visitor_hash(visitor), [], []
    for article_id in _article_ids(args.get("articles")):
        live = snapshot.articles.get(article_id)
        if live is None:
            missing.append(article_id)
        else:
            items.append(live.item_for(point))
    config = current_app.config
    body = (f'{{"items":[{",".join(items)}],"missing":{json.dumps(missing)},'
            f'"engaged_seconds":{config["ENGAGED_SECONDS"]}}}')
    max_age = config["SERVING_CACHE_SECONDS"]
    return Response(body, mimetype="application/json",
                    headers={"Cache-Control": f"private, max-age={max_age}"})


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
        _args({"key"})
        report = events.ingest(g.get("json_body"), g.snapshot, event_store())
        return Response(json.dumps(report), mimetype="application/json")

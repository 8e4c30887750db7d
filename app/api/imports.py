"""Imports of scraped copy and their cleanup: create, inspect, re-run, restore lines."""

from flask import request
from flask.views import MethodView

from app.api.auth import current_user, login_required
from app.api.http import ETAG_HEADER, IF_MATCH_PARAM, ApiBlueprint, expected_version, takes_body
from app.api.presenters import with_etag
from app.editorial import articles, imports
from app.errors import ValidationFailed, field_errors
from app.schemas.articles import ArticleSchema
from app.schemas.imports import (
    CleanupRunSchema,
    ImportJsonSchema,
    ImportQuerySchema,
    ImportSchema,
    RestoreSchema,
)

blp = ApiBlueprint("imports", __name__, url_prefix="/v1",
                   description="Importing scraped text or HTML; the cleanup and its record")

# Any bytes are a valid raw page (bad ones become a failed run with a reason), so the raw
# body has no schema to violate.
RAW_BODY = {"schema": {"description": "The page exactly as scraped"}}


@blp.route("/imports")
class Imports(MethodView):
    @login_required()
    @blp.arguments(ImportQuerySchema, location="query")
    @blp.arguments(ImportJsonSchema, location="json", required=False)
    @blp.response(202, ImportSchema, description="Accepted; the cleanup runs in the background")
    @blp.alt_response(200, schema=ImportSchema, description="The same bytes were already "
                      "imported for this source and that draft still exists: the existing "
                      "import (once the draft is deleted, the same bytes make a new import)")
    @blp.doc(requestBody={"content": {"text/plain": RAW_BODY, "text/html": RAW_BODY}})
    @takes_body(limit="IMPORT_MAX_BYTES", raw_types=imports.SUPPORTED_TYPES)
    def post(self, query, body):
        """Import scraped text or HTML; a cleanup task turns it into a draft"""
        content, content_type, source = _payload(query, body)
        raw, created = imports.create_import(
            current_user(), content, content_type, source_name=source.get("name"),
            source_url=source.get("url"), language=body.get("language") or query.get("language"),
        )
        return raw, 202 if created else 200, {"Location": f"/v1/imports/{raw.id}"}


def _payload(query: dict, body: dict) -> tuple[bytes, str, dict]:
    if request.mimetype in ("text/plain", "text/html", "application/xhtml+xml"):
        source = {"name": query.get("source"), "url": query.get("source_url")}
        return request.get_data(cache=True), request.content_type, source
    if "content" not in body:
        raise ValidationFailed("content is required.", errors=field_errors(
            {"json": {"content": ["Missing data for required field."]}}))
    return body["content"].encode("utf-8"), body["content_type"], body.get("source") or {}


@blp.route("/imports/<import_id>")
class ImportById(MethodView):
    @login_required()
    @blp.response(200, ImportSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, import_id):
        """An import: its status, timings and every cleanup run's result"""
        return imports.get_import(current_user(), import_id)


@blp.route("/articles/<article_id>/cleanup")
class ArticleCleanup(MethodView):
    @login_required()
    @blp.response(200, ImportSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, article_id):
        """The article's import and cleanup record (removed lines with reasons)"""
        return imports.latest_import(current_user(), article_id)


@blp.route("/articles/<article_id>/cleanup/runs")
class CleanupRuns(MethodView):
    @login_required()
    @blp.response(202, CleanupRunSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    @blp.alt_response(428, response="PRECONDITION_REQUIRED")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @blp.doc(parameters=[IF_MATCH_PARAM])
    def post(self, article_id):
        """Re-run the cleanup (it adds a new revision)"""
        return imports.rerun(current_user(), article_id, expected_version()), 202


@blp.route("/articles/<article_id>/cleanup/restore")
class RestoreLine(MethodView):
    @login_required()
    @blp.arguments(RestoreSchema)
    @blp.response(200, ArticleSchema, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    @blp.alt_response(428, response="PRECONDITION_REQUIRED")
    @blp.doc(parameters=[IF_MATCH_PARAM])
    def post(self, data, article_id):
        """Put a removed line back into the body (a new revision)"""
        imports.restore_line(current_user(), article_id, expected_version(), data["index"])
        return with_etag(articles.get_article(article_id))

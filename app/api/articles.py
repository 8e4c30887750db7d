"""Articles: create, list and search, read, update (If-Match), soft delete."""

from flask.views import MethodView

from app.api.auth import current_user, login_required
from app.api.http import (
    ETAG_HEADER,
    IDEMPOTENCY_KEY_PARAM,
    IF_MATCH_PARAM,
    IF_NONE_MATCH_PARAM,
    LINK_HEADER,
    ApiBlueprint,
    etag_for,
    expected_version,
    idempotent,
    next_link,
    not_modified,
    reads_only,
)
from app.api.presenters import present_page, with_etag
from app.editorial import article_queries
from app.editorial import articles as service
from app.schemas.articles import (
    ArticleCreateSchema,
    ArticleListArgsSchema,
    ArticlePageSchema,
    ArticleSchema,
    ArticleWriteSchema,
)

blp = ApiBlueprint("articles", __name__, url_prefix="/v1/articles",
                description="Article drafts: the working copy and its metadata")


def _resolve_me(args: dict, name: str) -> str | None:
    value = args.pop(name, None)
    return current_user().id if value == "me" else value


@blp.route("")
class Articles(MethodView):
    @login_required()
    @blp.arguments(ArticleListArgsSchema, location="query")
    @blp.response(200, ArticlePageSchema, headers=LINK_HEADER)
    @reads_only
    def get(self, args):
        """List and search articles (filters, sort, cursor pagination)"""
        limit, cursor, sort = args.pop("limit"), args.pop("cursor"), args.pop("sort")
        with_body = args.pop("view") == "full"
        args["author_id"] = _resolve_me(args, "author")
        args["assignee_id"] = _resolve_me(args, "assignee")
        page = article_queries.search_articles(args, sort, limit, cursor, with_body=with_body)
        return present_page(page, with_body=with_body), 200, next_link(page.next_cursor)

    @login_required()
    @idempotent
    @blp.arguments(ArticleCreateSchema)
    @blp.response(201, ArticleSchema, headers=ETAG_HEADER)
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAM])
    def post(self, data):
        """Create an article (its first revision)"""
        article = service.create_article(current_user(), data)
        return with_etag(article, 201, {"Location": f"/v1/articles/{article.id}"})


@blp.route("/<article_id>")
class ArticleById(MethodView):
    @login_required()
    @blp.response(200, ArticleSchema, headers=ETAG_HEADER)
    @blp.alt_response(304, description="Not Modified: If-None-Match names the current ETag",
                      headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(parameters=[IF_NONE_MATCH_PARAM])
    @reads_only
    def get(self, article_id):
        """Read an article (conditional with If-None-Match)"""
        record = article_queries.read_record(current_user(), article_id)
        return not_modified(etag_for(record.version)) or with_etag(record)

    @login_required()
    @blp.arguments(ArticleWriteSchema)
    @blp.response(200, ArticleSchema, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    @blp.alt_response(428, response="PRECONDITION_REQUIRED")
    @blp.doc(parameters=[IF_MATCH_PARAM])
    def patch(self, data, article_id):
        """Update an article; text changes create a new revision"""
        version = expected_version()
        return with_etag(service.update_article(current_user(), article_id, version, data))

    @login_required()
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    @blp.alt_response(428, response="PRECONDITION_REQUIRED")
    @blp.doc(parameters=[IF_MATCH_PARAM])
    def delete(self, article_id):
        """Delete an article (soft: revisions are kept)"""
        service.delete_article(current_user(), article_id, expected_version())

"""Revisions: the immutable history of an article's text, and line diffs."""

from flask.views import MethodView

from app.api.auth import current_user, login_required
from app.api.http import LINK_HEADER, ApiBlueprint, next_link
from app.editorial import articles, revisions
from app.schemas.articles import DiffArgsSchema, DiffSchema, RevisionPageSchema, RevisionSchema
from app.schemas.common import PageArgsSchema

blp = ApiBlueprint("revisions", __name__, url_prefix="/v1/articles/<article_id>/revisions",
                description="Immutable revisions of an article and diffs between them")


def _readable(article_id: str) -> None:
    articles.read_article(current_user(), article_id)


@blp.route("")
class Revisions(MethodView):
    @login_required()
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, RevisionPageSchema, headers=LINK_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, article_id):
        """List an article's revisions, oldest first"""
        _readable(article_id)
        page = revisions.list_revisions(article_id, args["limit"], args["cursor"])
        return page, 200, next_link(page.next_cursor)


@blp.route("/<int(min=1, max=2147483647):number>")  # a 32-bit revision number, else 404
class RevisionByNumber(MethodView):
    @login_required()
    @blp.response(200, RevisionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, article_id, number):
        """Read one revision"""
        _readable(article_id)
        return revisions.get_revision(article_id, number)


@blp.route("/diff")
class RevisionDiff(MethodView):
    @login_required()
    @blp.arguments(DiffArgsSchema, location="query")
    @blp.response(200, DiffSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, article_id):
        """Line diff of each text field between two revisions"""
        _readable(article_id)
        return revisions.diff_revisions(article_id, args["from_"], args["to"])

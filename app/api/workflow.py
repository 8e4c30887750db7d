"""The review workflow: transitions, the audit history and the review queue."""

from flask.views import MethodView

from app.api.auth import current_user, login_required
from app.api.http import ETAG_HEADER, IF_MATCH_PARAM, LINK_HEADER, ApiBlueprint, expected_version, next_link
from app.api.presenters import present_page, with_etag
from app.editorial import article_queries, articles, audit, transitions
from app.schemas.articles import (
    ArticlePageSchema,
    ArticleSchema,
    AuditPageSchema,
    ReviewQueueArgsSchema,
    TransitionSchema,
)
from app.schemas.common import PageArgsSchema

blp = ApiBlueprint("workflow", __name__, url_prefix="/v1",
                   description="Review workflow: transitions, history and the review queue")


@blp.route("/articles/<article_id>/transitions")
class Transitions(MethodView):
    @login_required()
    @blp.arguments(TransitionSchema)
    @blp.response(200, ArticleSchema, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="Not allowed in the current state "
                      "(the problem names current_state and allowed_actions), or embargoed")
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    @blp.alt_response(428, response="PRECONDITION_REQUIRED")
    @blp.doc(parameters=[IF_MATCH_PARAM])
    def post(self, data, article_id):
        """Take a workflow action (submit, approve, publish, ...)"""
        article = transitions.apply(
            current_user(), article_id, expected_version(), data["action"],
            comment=data.get("comment"), publish_at=data.get("publish_at"),
        )
        return with_etag(article)


@blp.route("/articles/<article_id>/history")
class History(MethodView):
    @login_required()
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, AuditPageSchema, headers=LINK_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, article_id):
        """The article's audit log, oldest first"""
        articles.read_article(current_user(), article_id)
        page = audit.history(article_id, args["limit"], args["cursor"])
        return page, 200, next_link(page.next_cursor)


@blp.route("/review-queue")
class ReviewQueue(MethodView):
    @login_required("review")
    @blp.arguments(ReviewQueueArgsSchema, location="query")
    @blp.response(200, ArticlePageSchema, headers=LINK_HEADER)
    def get(self, args):
        """Articles waiting for review, longest waiting first"""
        assignee = current_user().id if args.get("assignee") == "me" else args.get("assignee")
        page = article_queries.review_queue(assignee, args["limit"], args["cursor"])
        return present_page(page), 200, next_link(page.next_cursor)

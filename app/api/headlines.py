"""Headline candidates of an article: the alternatives its headline is tested between."""

from flask.views import MethodView

from app.api.auth import current_user, login_required
from app.api.http import IF_MATCH_PARAM, ApiBlueprint, expected_version
from app.editorial import headlines
from app.schemas.headlines import (
    CandidateCreateSchema,
    CandidateOrderSchema,
    CandidateSchema,
    CandidateUpdateSchema,
)

blp = ApiBlueprint("headlines", __name__, url_prefix="/v1/articles/<article_id>/headlines",
                   description="Headline candidates (reviewed with the article)")
WRITE_ERRORS = ((404, "NOT_FOUND"), (409, "CONFLICT"), (412, "PRECONDITION_FAILED"),
                (428, "PRECONDITION_REQUIRED"))


def _write_errors(view):
    for code, name in WRITE_ERRORS:
        view = blp.alt_response(code, response=name)(view)
    return blp.doc(parameters=[IF_MATCH_PARAM])(view)


@blp.route("")
class Candidates(MethodView):
    @login_required()
    @blp.response(200, CandidateSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, article_id):
        """List the article's headline candidates in order"""
        return headlines.list_candidates(current_user(), article_id)

    @login_required()
    @blp.arguments(CandidateCreateSchema)
    @blp.response(201, CandidateSchema)
    @_write_errors
    def post(self, data, article_id):
        """Add a headline candidate (accepted; it goes to review with the article)"""
        return headlines.add_candidate(current_user(), article_id, expected_version(),
                                       data["text"]), 201


@blp.route("/order")
class CandidateOrder(MethodView):
    @login_required()
    @blp.arguments(CandidateOrderSchema)
    @blp.response(200, CandidateSchema(many=True))
    @_write_errors
    def put(self, data, article_id):
        """Reorder the candidates (name every one once)"""
        return headlines.reorder(current_user(), article_id, expected_version(), data["ids"])


@blp.route("/<candidate_id>")
class CandidateById(MethodView):
    @login_required()
    @blp.arguments(CandidateUpdateSchema)
    @blp.response(200, CandidateSchema)
    @_write_errors
    def patch(self, data, article_id, candidate_id):
        """Edit a candidate's text, or accept or reject it"""
        return headlines.update_candidate(current_user(), article_id, candidate_id,
                                          expected_version(), data)

    @login_required()
    @blp.response(204)
    @_write_errors
    def delete(self, article_id, candidate_id):
        """Remove a candidate"""
        headlines.remove_candidate(current_user(), article_id, candidate_id, expected_version())

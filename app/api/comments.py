"""Review comments on an article's revisions."""

from flask.views import MethodView

from app.api.auth import current_user, login_required
from app.api.http import ApiBlueprint
from app.editorial import comments
from app.schemas.articles import CommentCreateSchema, CommentListArgsSchema, CommentSchema

blp = ApiBlueprint("comments", __name__, url_prefix="/v1/articles/<article_id>/comments",
                   description="Review comments on revisions")


@blp.route("")
class Comments(MethodView):
    @login_required()
    @blp.arguments(CommentListArgsSchema, location="query")
    @blp.response(200, CommentSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, article_id):
        """List review comments, oldest first"""
        return comments.list_comments(current_user(), article_id, args.get("resolved"))

    @login_required()
    @blp.arguments(CommentCreateSchema)
    @blp.response(201, CommentSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, article_id):
        """Comment on a revision (the latest unless one is named)"""
        comment = comments.add_comment(current_user(), article_id, data["body"],
                                       data.get("revision"))
        return comment, 201


@blp.route("/<comment_id>/resolve")
class ResolveComment(MethodView):
    @login_required()
    @blp.response(200, CommentSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, article_id, comment_id):
        """Mark a comment resolved"""
        return comments.resolve_comment(current_user(), article_id, comment_id)

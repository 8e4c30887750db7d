"""Users and their API tokens. Admins manage users; anyone manages their own tokens."""

from datetime import timedelta

from flask.views import MethodView

from app.api.auth import current_user, login_required
from app.api.http import IDEMPOTENCY_KEY_PARAM, ApiBlueprint, idempotent
from app.models import Role
from app.platform import users as service
from app.schemas.users import (
    IssuedTokenSchema,
    TokenCreateSchema,
    TokenSchema,
    UserSchema,
    UserUpdateSchema,
)

blp = ApiBlueprint("users", __name__, url_prefix="/v1",
                description="Users, roles and API tokens")


@blp.route("/me")
class Me(MethodView):
    @login_required()
    @blp.response(200, UserSchema)
    def get(self):
        """The authenticated user"""
        return current_user()


@blp.route("/users")
class Users(MethodView):
    @login_required("users")
    @blp.response(200, UserSchema(many=True))
    def get(self):
        """List users"""
        return service.list_users()

    @login_required("users")
    @idempotent
    @blp.arguments(UserSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAM])
    def post(self, data):
        """Create a user"""
        user = service.create_user(data["email"], Role(data["role"]), data["name"])
        return user, 201, {"Location": f"/v1/users/{user.id}"}


@blp.route("/users/<user_id>")
class UserById(MethodView):
    @login_required("users")
    @blp.response(200, UserSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, user_id):
        """Read a user"""
        return service.get_user(user_id)

    @login_required("users")
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data, user_id):
        """Change a user's name, role or active flag"""
        return service.update_user(user_id, data)


@blp.route("/users/<user_id>/tokens")
class Tokens(MethodView):
    @login_required()
    @blp.response(200, TokenSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, user_id):
        """List a user's tokens (never their secrets)"""
        service.require_self_or_admin(current_user(), user_id)
        return service.list_tokens(service.get_user(user_id).id)

    @login_required()
    @blp.arguments(TokenCreateSchema)
    @blp.response(201, IssuedTokenSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, user_id):
        """Issue a token; its secret is in this response only"""
        service.require_self_or_admin(current_user(), user_id)
        days = data["expires_in_days"]
        expires_in = timedelta(days=days) if days else None
        return service.issue_token(service.get_user(user_id), data["name"], expires_in), 201


@blp.route("/users/<user_id>/tokens/<token_id>")
class TokenById(MethodView):
    @login_required()
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, user_id, token_id):
        """Revoke a token"""
        service.require_self_or_admin(current_user(), user_id)
        service.revoke_token(user_id, token_id)

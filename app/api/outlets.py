"""Outlets: where published articles go (admin), and their health (editors too)."""

from flask.views import MethodView

from app.api.auth import current_user, login_required
from app.api.http import ApiBlueprint
from app.models import Outlet, OutletKind
from app.publishing import feeds, outlets
from app.schemas.publishing import (
    OutletCreateSchema,
    OutletHealthSchema,
    OutletSchema,
    OutletWithSecretSchema,
    OutletWriteSchema,
)

blp = ApiBlueprint("outlets", __name__, url_prefix="/v1/outlets",
                   description="Outlets: webhooks and Atom feeds that receive published articles")


def present(outlet: Outlet, *, with_secret: bool = False) -> dict:
    """The outlet as shown: header values and the secret are never echoed (except the
    secret once, right after it is created or rotated)."""
    shown = {field: getattr(outlet, field) for field in (
        "id", "name", "kind", "format", "url", "filters", "enabled", "circuit", "created_at", "updated_at")}
    shown["header_names"] = sorted(outlet.headers or {})
    shown["feed_url"] = feeds.feed_url(outlet) if outlet.kind == OutletKind.FEED else None
    if with_secret:
        shown["secret"] = outlet.secret
    return shown


@blp.route("")
class Outlets(MethodView):
    @login_required("outlets:read")
    @blp.response(200, OutletSchema(many=True))
    def get(self):
        """List outlets"""
        return [present(outlet) for outlet in outlets.list_outlets()]

    @login_required("outlets:manage")
    @blp.arguments(OutletCreateSchema)
    @blp.response(201, OutletWithSecretSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data):
        """Add an outlet; a webhook's signing secret is in this response only"""
        # No Idempotency-Key replay here: it would store the secret with the response.
        # Names are unique, so a retried create gets 409 rather than a second outlet.
        return present(outlets.create(current_user(), data), with_secret=True), 201


@blp.route("/<outlet_id>")
class OutletById(MethodView):
    @login_required("outlets:read")
    @blp.response(200, OutletSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, outlet_id):
        """Read an outlet"""
        return present(outlets.get(outlet_id))

    @login_required("outlets:manage")
    @blp.arguments(OutletWriteSchema)
    @blp.response(200, OutletSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data, outlet_id):
        """Change an outlet (disable it with enabled=false: its deliveries wait)"""
        return present(outlets.update(current_user(), outlet_id, data))


@blp.route("/<outlet_id>/secret")
class OutletSecret(MethodView):
    @login_required("outlets:manage")
    @blp.response(200, OutletWithSecretSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, outlet_id):
        """Rotate a webhook's signing secret; the new one is in this response only"""
        return present(outlets.rotate_secret(current_user(), outlet_id), with_secret=True)


@blp.route("/<outlet_id>/health")
class OutletHealth(MethodView):
    @login_required("outlets:read")
    @blp.response(200, OutletHealthSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, outlet_id):
        """An outlet's health: last success, recent failure rate, circuit, backlog"""
        return outlets.health(outlet_id)

"""The delivery log: what each outlet was sent, every attempt, redeliver and cancel."""

from flask.views import MethodView

from app.api.auth import current_user, login_required
from app.api.http import IDEMPOTENCY_KEY_PARAM, LINK_HEADER, ApiBlueprint, idempotent, next_link
from app.publishing import deliveries
from app.schemas.publishing import (
    DeliveryDetailSchema,
    DeliveryListArgsSchema,
    DeliveryPageSchema,
    DeliverySchema,
)

blp = ApiBlueprint("deliveries", __name__, url_prefix="/v1/deliveries",
                   description="Deliveries to outlets, with their attempts")


@blp.route("")
class Deliveries(MethodView):
    @login_required("outlets:read")
    @blp.arguments(DeliveryListArgsSchema, location="query")
    @blp.response(200, DeliveryPageSchema, headers=LINK_HEADER)
    def get(self, args):
        """List deliveries, newest first (filter by state, kind, outlet, article, time)"""
        limit, cursor = args.pop("limit"), args.pop("cursor")
        page = deliveries.list_deliveries(args, limit, cursor)
        return page, 200, next_link(page.next_cursor)


@blp.route("/<delivery_id>")
class DeliveryById(MethodView):
    @login_required("outlets:read")
    @blp.response(200, DeliveryDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, delivery_id):
        """Read a delivery with the document sent and every attempt"""
        delivery = deliveries.get(delivery_id)
        return {**{c.key: getattr(delivery, c.key) for c in delivery.__table__.columns},
                "attempt_log": deliveries.attempts(delivery_id)}


@blp.route("/<delivery_id>/redeliver")
class Redeliver(MethodView):
    @login_required("deliveries")
    @idempotent
    @blp.response(201, DeliverySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAM])
    def post(self, delivery_id):
        """Send a dead or delivered version again, as a new delivery"""
        return deliveries.redeliver(current_user(), delivery_id), 201


@blp.route("/<delivery_id>/cancel")
class Cancel(MethodView):
    @login_required("deliveries")
    @blp.response(200, DeliverySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, delivery_id):
        """Cancel a pending delivery (not a takedown)"""
        return deliveries.cancel(current_user(), delivery_id)

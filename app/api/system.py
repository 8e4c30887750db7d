"""Worker heartbeats: prove the API -> broker -> worker -> database path end to end."""

from flask.views import MethodView

from app.api.auth import current_user, login_required
from app.api.http import ApiBlueprint
from app.platform import system
from app.schemas.system import HeartbeatSchema, WorkersStatusSchema

blp = ApiBlueprint("system", __name__, url_prefix="/v1/system",
                description="Background workers and the scheduler")


@blp.route("/heartbeats")
class Heartbeats(MethodView):
    @login_required("operations")
    @blp.response(202, HeartbeatSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self):
        """Send a heartbeat through the queue; a worker completes it"""
        beat = system.request_heartbeat(current_user())
        return beat, 202, {"Location": f"/v1/system/heartbeats/{beat.id}"}


@blp.route("/heartbeats/<heartbeat_id>")
class HeartbeatById(MethodView):
    @login_required("operations")
    @blp.response(200, HeartbeatSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, heartbeat_id):
        """Read a heartbeat (pending until a worker answers)"""
        return system.get_heartbeat(heartbeat_id)


@blp.route("/workers")
class Workers(MethodView):
    @login_required("operations")
    @blp.response(200, WorkersStatusSchema)
    def get(self):
        """When a worker last answered and when beat last ran"""
        return {"last_beat": system.latest_heartbeat("beat"),
                "last_probe": system.latest_heartbeat("probe")}

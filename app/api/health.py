"""Liveness and readiness probes (no authentication)."""

from flask import current_app
from flask.views import MethodView

from app.api.http import ApiBlueprint
from app.platform import system
from app.schemas.system import HealthSchema, ReadinessSchema

blp = ApiBlueprint("health", __name__, rate_limit="exempt",
                   description="Probes for load balancers and orchestrators")


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.doc(security=[])
    def get(self):
        """The process is up"""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200, ReadinessSchema)
    @blp.alt_response(503, schema=ReadinessSchema, description="A dependency is unreachable")
    @blp.doc(security=[])
    def get(self):
        """The database and the broker are reachable"""
        failures = {
            "database": system.check_database(),
            "broker": system.check_broker(current_app.extensions["celery"]),
        }
        checks = {name: reason or "ok" for name, reason in failures.items()}
        ready = not any(failures.values())
        return {"status": "ready" if ready else "unavailable", "checks": checks}, 200 if ready else 503

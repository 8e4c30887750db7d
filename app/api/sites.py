"""Sites and their publishable keys (admin)."""

from flask.views import MethodView

from app.api.auth import login_required
from app.api.http import ApiBlueprint
from app.experiments import sites
from app.schemas.experiments import SiteCreateSchema, SiteSchema

blp = ApiBlueprint("sites", __name__, url_prefix="/v1/sites",
                   description="Sites: frontends with a publishable key (admin)")


@blp.route("")
class Sites(MethodView):
    @login_required("sites")
    @blp.response(200, SiteSchema(many=True))
    def get(self):
        """List sites"""
        return sites.list_sites()

    @login_required("sites")
    @blp.arguments(SiteCreateSchema)
    @blp.response(201, SiteSchema)
    def post(self, data):
        """Register a site; its key goes in the frontend's serving and event calls"""
        return sites.create_site(data["name"]), 201


@blp.route("/<site_id>")
class SiteById(MethodView):
    @login_required("sites")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, site_id):
        """Deactivate a site: its key stops working within a serving refresh"""
        sites.deactivate(site_id)

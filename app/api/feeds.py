"""Atom feeds of feed outlets: public, like the articles in them, and cacheable."""

from flask import Response, request
from flask.views import MethodView

from app.api.http import ApiBlueprint
from app.publishing import feeds

blp = ApiBlueprint("feeds", __name__, url_prefix="/v1/feeds", rate_limit="per_address",
                   description="Atom feeds of feed outlets (public)")
ATOM = {"application/atom+xml": {"schema": {"type": "string"}}}


@blp.route("/<outlet_id>")
class Feed(MethodView):
    @blp.doc(security=[], responses={"200": {"description": "The feed", "content": ATOM},
                                     "304": {"description": "Not modified since the ETag given"}})
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, outlet_id):
        """An outlet's Atom feed: each article's latest version, newest first"""
        outlet = feeds.feed_outlet(outlet_id)
        tag = feeds.version_tag(outlet)
        headers = {"ETag": f'"{tag}"', "Cache-Control": "public, max-age=60"}
        if request.if_none_match.contains(tag):
            return Response(status=304, headers=headers)
        document, media_type = feeds.render(outlet)
        return Response(document, mimetype=media_type, headers=headers)

"""The front-page snippet (app/snippet/): a script any page loads to run headline tests.

Two URLs for the same bytes. ``/v1/serve/masthead.js`` always answers the deployed
version, cached for five minutes, and names the pinned URL and its integrity hash in
its headers. ``/v1/serve/masthead.<version>.js`` is content-addressed, so it is cached
for a year as immutable and can carry ``integrity=`` (Subresource Integrity); only the
deployed version is served, an older one answers 404 (the page then keeps its own
headlines). Public like the serving endpoint, CORS-enabled (``crossorigin`` and SRI
need it) and rate limited per client address.
"""

from flask import Response, request, url_for
from flask.views import MethodView

from app import snippet
from app.api.http import ApiBlueprint
from app.errors import NotFound

blp = ApiBlueprint("snippet", __name__, url_prefix="/v1/serve", rate_limit="per_address",
                   description="The front-page snippet: a script that runs headline tests (public)")
SHORT_CACHE = "public, max-age=300"
IMMUTABLE = "public, max-age=31536000, immutable"
SCRIPT = {"text/javascript": {"schema": {"type": "string"}}}
INTEGRITY_HEADER = {"Masthead-Integrity": {
    "description": "The sha384 Subresource Integrity hash of the script (for integrity=...)",
    "schema": {"type": "string"}}}


def _script(cache_control: str) -> Response:
    current = snippet.current()
    response = Response(current.body, mimetype="text/javascript", headers={
        "Cache-Control": cache_control, "Masthead-Integrity": current.integrity,
        # Any page may load it (also one that sends Cross-Origin-Embedder-Policy).
        "Cross-Origin-Resource-Policy": "cross-origin"})
    response.set_etag(current.version)
    return response.make_conditional(request)


@blp.route("/masthead.js")
class LatestSnippet(MethodView):
    @blp.doc(security=[], responses={"200": {
        "description": "The deployed version (cached five minutes)", "content": SCRIPT,
        "headers": {**INTEGRITY_HEADER, "Content-Location": {
            "description": "The immutable URL of this version", "schema": {"type": "string"}}}},
        "304": {"description": "Not modified since the ETag given"}})
    def get(self):
        """The front-page snippet, deployed version (public)"""
        response = _script(SHORT_CACHE)
        response.headers["Content-Location"] = url_for(
            "snippet.PinnedSnippet", version=snippet.current().version)
        return response


@blp.route("/masthead.<version>.js")
class PinnedSnippet(MethodView):
    @blp.doc(security=[], responses={"200": {
        "description": "This version, immutable (cached a year)", "content": SCRIPT,
        "headers": INTEGRITY_HEADER}, "304": {"description": "Not modified since the ETag given"}})
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, version):
        """The front-page snippet at a pinned version (public, immutable)"""
        if version != snippet.current().version:
            raise NotFound(f"This deployment serves masthead.{snippet.current().version}.js; "
                           "see /v1/serve/masthead.js.")
        return _script(IMMUTABLE)

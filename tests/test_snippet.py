"""The front-page snippet's URLs, headers and build, and what serving gives it."""

import base64
import hashlib
from pathlib import Path

import pytest

from app import snippet
from tests.experiment_helpers import live_seed_article, site_key

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
ORIGIN = {"Origin": "https://www.newsroom.example"}


def test_the_deployed_version_is_short_cached_and_names_its_pinned_url(client):
    response = client.get("/v1/serve/masthead.js", headers=ORIGIN)
    current = snippet.current()
    assert response.status_code == 200 and response.data == current.body
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Content-Location"] == f"/v1/serve/{current.filename}"
    assert response.headers["Masthead-Integrity"] == current.integrity
    assert response.headers["Access-Control-Allow-Origin"] in ("*", ORIGIN["Origin"])  # for SRI
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"


def test_the_pinned_version_is_immutable_and_matches_its_integrity_hash(client):
    current = snippet.current()
    response = client.get(f"/v1/serve/{current.filename}", headers=ORIGIN)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    digest = base64.b64encode(hashlib.sha384(response.data).digest()).decode()
    assert response.headers["Masthead-Integrity"] == f"sha384-{digest}" == current.integrity
    assert current.version == hashlib.sha384(response.data).hexdigest()[:16]
    again = client.get(f"/v1/serve/{current.filename}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


@pytest.mark.parametrize("name", ["masthead.0123456789abcdef.js", "masthead.latest.js"])
def test_another_version_is_not_found(client, name):
    response = client.get(f"/v1/serve/{name}")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_the_served_file_is_the_build_of_the_source():
    built = snippet.minify(snippet.SOURCE.read_text(encoding="utf-8"))
    assert snippet.BUILT.read_text(encoding="utf-8") == built, "run `python -m app.snippet build`"
    assert snippet.gzipped_size(snippet.current().body) < 3000  # the budget


def test_the_readme_documents_the_current_version():
    current = snippet.current()
    assert current.integrity in README and current.filename in README, (
        "update the README's Front-page snippet section (python -m app.snippet size)")


def test_served_items_carry_language_direction_and_the_engaged_seconds(app, client, factory):
    writer, editor, admin = (factory.login(role)[1] for role in ("writer", "editor", "admin"))
    article_id, _candidates = live_seed_article(app, client, writer, editor)
    key = site_key(client, admin)
    body = client.get(f"/v1/serve/headlines?articles={article_id}&visitor=v&key={key}").get_json()
    item = body["items"][0]
    assert (item["language"], item["direction"]) == ("ar", "rtl")
    assert body["engaged_seconds"] == app.config["ENGAGED_SECONDS"]

"""Put the example front page's 20 stories live on a Masthead API and write the site.

    python examples/front-page/setup.py --api http://127.0.0.1:8000 --token mh_...   # an admin token
    python -m http.server --directory examples/front-page/site 8080                    # then open it

Through the public API only (standard library, no dependencies): an admin token creates a
writer and an editor (four-eyes: the writer writes and submits, the editor approves and
publishes), each story is written with its two headlines as candidates and published, so
a headline test starts on each (EXPERIMENTS_AUTOSTART); a site gets a publishable key.
Then ``site/`` gets index.html (the front page, 20 stories) and one article page per
story, each with the snippet's script tag pinned to the deployed version and its
integrity hash, as the README's "Front-page snippet" section describes.
"""

import argparse
import html
import json
import secrets
import shutil
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
TITLE = "The Example Times"


class Api:
    """JSON over HTTP with one caller's token."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base, self.token = base.rstrip("/"), token

    def call(self, method: str, path: str, body: dict | None = None, etag: str | None = None):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if etag:
            headers["If-Match"] = etag
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null"), response.headers

    def etag(self, article_id: str) -> str:
        return self.call("GET", f"/v1/articles/{article_id}")[1]["ETag"]

    def act(self, article_id: str, action: str) -> None:
        self.call("POST", f"/v1/articles/{article_id}/transitions", {"action": action},
                  self.etag(article_id))


def newsroom(admin: Api) -> tuple[Api, Api]:
    """A writer and an editor, each with a fresh token."""
    suffix = secrets.token_hex(4)
    people = []
    for role in ("writer", "editor"):
        user, _ = admin.call("POST", "/v1/users", {"email": f"example-{role}-{suffix}@example.org",
                                                   "name": f"Example {role}", "role": role})
        issued, _ = admin.call("POST", f"/v1/users/{user['id']}/tokens", {"name": "front-page example"})
        people.append(Api(admin.base, issued["token"]))
    return people[0], people[1]


def publish(writer: Api, editor: Api, story: dict) -> str:
    """Write, review and publish one story with its headlines as candidates; its id."""
    article, _ = writer.call("POST", "/v1/articles", {
        "language": story["language"], "headline": story["headlines"][0], "body": story["body"]})
    for text in story["headlines"]:
        writer.call("POST", f"/v1/articles/{article['id']}/headlines", {"text": text},
                    writer.etag(article["id"]))
    writer.act(article["id"], "submit")
    editor.act(article["id"], "approve")
    editor.act(article["id"], "publish")
    return article["id"]


def script_tag(api: Api, key: str, loading: str = "async", **options: str) -> str:
    """The snippet's tag: the deployed version's immutable URL and its integrity hash,
    loaded ``async`` (measured the lighter, bench/snippet_paint.py) or ``defer``; neither
    blocks parsing or rendering."""
    _, headers = api.call("HEAD", "/v1/serve/masthead.js")
    extra = "".join(f' data-{name}="{html.escape(value)}"' for name, value in options.items())
    return (f'<script {loading} src="{api.base}{headers["Content-Location"]}" '
            f'integrity="{headers["Masthead-Integrity"]}" crossorigin="anonymous" '
            f'data-key="{html.escape(key)}"{extra}></script>')


def _page(title: str, tag: str, main: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="style.css">
{tag}
</head>
<body>
<header><a href="index.html" class="masthead">{TITLE}</a></header>
{main}
<footer>Headlines and text: the Upworthy Research Archive (CC BY 4.0) and SaudiNewsNet
(CC BY-NC-SA 4.0), as credited under each story. Headline tests by Masthead.</footer>
</body>
</html>
"""


def _direction(story: dict) -> str:
    return "rtl" if story["language"] == "ar" else "ltr"


def front_page(stories: list[dict], tag: str) -> str:
    cards = "\n".join(
        f'<article class="card" lang="{s["language"]}" dir="{_direction(s)}">\n'
        f'  <a class="headline" href="article-{n:02d}.html" data-masthead-article="{s["id"]}">'
        f'{html.escape(s["headlines"][0])}</a>\n'
        f'  <p class="credit" dir="ltr">{html.escape(s["source"])}</p>\n</article>'
        for n, s in enumerate(stories, 1))
    return _page(TITLE, tag, f'<main class="front">\n{cards}\n</main>')


def article_page(story: dict, tag: str) -> str:
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in story["body"].split("\n\n"))
    main = (f'<main class="story" lang="{story["language"]}" dir="{_direction(story)}">\n'
            f'<h1>{html.escape(story["headlines"][0])}</h1>\n{paragraphs}\n'
            f'<p class="credit" dir="ltr">{html.escape(story["source"])}</p>\n</main>')
    return _page(story["headlines"][0], tag, main)


def write_site(out: Path, stories: list[dict], tag: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / "style.css", out / "style.css")
    (out / "index.html").write_text(front_page(stories, tag), encoding="utf-8")
    for number, story in enumerate(stories, 1):
        (out / f"article-{number:02d}.html").write_text(article_page(story, tag), encoding="utf-8")


def setup(api_url: str, admin_token: str, out: Path, loading: str = "async") -> list[dict]:
    """Publish the stories, get a site key, write the site; the stories with their ids."""
    admin = Api(api_url, admin_token)
    writer, editor = newsroom(admin)
    stories = json.loads((HERE / "articles.json").read_text(encoding="utf-8"))
    for story in stories:
        story["id"] = publish(writer, editor, story)
    site, _ = admin.call("POST", "/v1/sites", {"name": "Example front page"})
    write_site(out, stories, script_tag(admin, site["key"], loading))
    return stories


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", default="http://127.0.0.1:8000", help="the Masthead API's base URL")
    parser.add_argument("--token", required=True, help="an admin's API token")
    parser.add_argument("--out", type=Path, default=HERE / "site")
    args = parser.parse_args()
    stories = setup(args.api, args.token, args.out)
    print(f"{len(stories)} stories live, each with a headline test. Serve the site with\n"
          f"  python -m http.server --directory {args.out} 8080\nand open http://127.0.0.1:8080/. "
          f"A test's numbers:\n  curl -s {args.api}/v1/articles/{stories[0]['id']}/experiment "
          f"-H 'Authorization: Bearer {args.token[:6]}...'")


if __name__ == "__main__":
    main()

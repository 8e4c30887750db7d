"""The front-page snippet: masthead.js (the readable source), masthead.min.js (what the API
serves, built from it) and the names that pin the served file: a content-addressed URL
and a Subresource Integrity hash.

``python -m app.snippet build`` rebuilds the minified file (jsmin, a dev dependency:
comments and whitespace out, nothing renamed, so the build is reproducible and the
served code reads like the source); ``check`` fails when it is stale (a test runs it);
``size`` prints the bytes, gzipped bytes and integrity hash the README states.
"""

import base64
import functools
import gzip
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).with_name("masthead.js")
BUILT = Path(__file__).with_name("masthead.min.js")


@dataclass(frozen=True)
class Snippet:
    body: bytes
    integrity: str  # "sha384-<base64>", for <script integrity=...>
    version: str  # the first 16 hex digits of the same digest: the file's immutable name

    @property
    def filename(self) -> str:
        return f"masthead.{self.version}.js"


@functools.cache
def current() -> Snippet:
    """The served file, read once per process."""
    body = BUILT.read_bytes()
    digest = hashlib.sha384(body).digest()
    return Snippet(body, "sha384-" + base64.b64encode(digest).decode(), digest.hex()[:16])


def minify(source: str) -> str:
    import jsmin  # a build tool, installed with the dev extras

    # Backticks count as quotes too: a template literal must never lose its spaces.
    return jsmin.jsmin(source, quote_chars="'\"`") + "\n"


def gzipped_size(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=9, mtime=0))


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "size"
    built = minify(SOURCE.read_text(encoding="utf-8"))
    if command == "build":
        BUILT.write_text(built, encoding="utf-8")
    elif command == "check" and BUILT.read_text(encoding="utf-8") != built:
        print(f"{BUILT} is stale: run `python -m app.snippet build` and commit it", file=sys.stderr)
        return 1
    snippet = current()
    source = SOURCE.read_bytes()
    print(f"source {len(source)} B ({gzipped_size(source)} B gzipped); served {snippet.filename}: "
          f"{len(snippet.body)} B minified, {gzipped_size(snippet.body)} B gzipped; "
          f"integrity {snippet.integrity}")
    return 0

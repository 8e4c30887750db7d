"""The baseline: a bare Flask app serving a stored JSON document, nothing else.

With BENCH_BARE_PAGE_SQL and BENCH_BARE_DATABASE_URL it also answers GET /page-sql: the
page's rows read from PostgreSQL with that one statement through psycopg and sent as JSON,
with nothing else (no authentication, ORM, validation or workflow rules): the floor under
what a page of articles can cost on this database.
"""

import json
import os
from datetime import datetime

import msgspec
import psycopg
from flask import Flask, Response, request

app = Flask(__name__)
_DOCUMENT = open(os.environ["BENCH_BARE_DOCUMENT"], "rb").read()  # noqa: SIM115
json.loads(_DOCUMENT)  # fail at start-up, not under load, if the document is broken


@app.get("/doc")
def document():
    return Response(_DOCUMENT, mimetype="application/json")


_POSTED = open(os.environ.get("BENCH_BARE_POST_DOCUMENT", os.environ["BENCH_BARE_DOCUMENT"]), "rb").read()  # noqa: SIM115


@app.post("/doc")
def posted():
    """Read and parse the body as a real endpoint must, then answer a constant document."""
    json.loads(request.get_data())
    return Response(_POSTED, mimetype="application/json")


# Further documents served as they are, GET /<name> each: "list=/tmp/list.json,..."
_EXTRA = {name: open(path, "rb").read()  # noqa: SIM115
          for name, _, path in (item.partition("=") for item in
                                os.environ.get("BENCH_BARE_EXTRA", "").split(",") if item)}


_PAGE_SQL, _DATABASE_URL = os.environ.get("BENCH_BARE_PAGE_SQL"), os.environ.get("BENCH_BARE_DATABASE_URL")
_connection = None


@app.get("/page-sql")
def page_from_the_database():
    global _connection  # one connection per worker process, as a pool would hand out
    if _connection is None:
        _connection = psycopg.connect(_DATABASE_URL, autocommit=True)
    cursor = _connection.execute(_PAGE_SQL, prepare=True)
    names = [column.name for column in cursor.description]
    items = [{name: value.isoformat() if isinstance(value, datetime) else value
              for name, value in zip(names, row, strict=True)} for row in cursor.fetchall()[:25]]
    return Response(msgspec.json.encode({"items": items, "next_cursor": None}),
                    mimetype="application/json")


@app.get("/<name>")
def extra_document(name):
    return Response(_EXTRA[name], mimetype="application/json")

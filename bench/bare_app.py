"""The baseline: a bare Flask app serving a stored JSON document, nothing else."""

import json
import os

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


@app.get("/<name>")
def extra_document(name):
    return Response(_EXTRA[name], mimetype="application/json")

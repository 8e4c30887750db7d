"""WSGI entry point: ``gunicorn wsgi:app``."""

import gc

from app import create_app

app = create_app()
# The app's own objects (routes, schemas, mappers) live as long as the process: out of the
# collector's sight, each full collection no longer walks them (editorial reads 2-7% faster
# under gunicorn, bench/http_overhead.py; docs/benchmarks.md).
gc.freeze()

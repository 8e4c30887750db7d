"""openapi.yaml is generated from the code, current, and complete."""

import re

import yaml

from app.openapi_file import SPEC_PATH, render

SPEC = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
# The document itself, its reference page, and the operators' scrape endpoint.
UNDOCUMENTED = {"/openapi.json", "/static/<path:filename>", "/docs", "/docs/init.js",
                "/docs/assets/<name>", "/metrics"}


def _operations():
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def test_committed_spec_is_current():
    assert SPEC_PATH.read_text(encoding="utf-8") == render(), "run `make openapi` and commit"


def test_every_route_is_documented(app):
    documented = {(p, m.upper()) for p, m, _ in _operations()}
    for rule in app.url_map.iter_rules():
        if rule.rule in UNDOCUMENTED:
            continue
        path = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, (path, method)


def test_every_operation_has_summary_and_error_responses():
    for path, method, operation in _operations():
        responses = operation["responses"]
        assert operation.get("summary"), (path, method)
        assert "500" in responses
        if operation.get("security") != []:
            assert {"401", "403"} <= set(responses), (path, method)
        if "requestBody" in operation:
            assert {"400", "413", "415", "422"} <= set(responses), (path, method)
        if "{" in path:
            assert "404" in responses, (path, method)
        if method in {"patch", "delete"} and path.startswith("/v1/articles/"):
            assert {"412", "428"} <= set(responses), (path, method)


def test_errors_are_problem_json():
    for name, response in SPEC["components"]["responses"].items():
        content = response.get("content", {})
        if content and name not in {"OK", "CREATED", "ACCEPTED"}:
            assert "application/problem+json" in content, name


def test_bearer_security_is_global_and_probes_are_public():
    assert SPEC["security"] == [{"bearerAuth": []}]
    assert SPEC["paths"]["/healthz"]["get"]["security"] == []
    assert SPEC["paths"]["/readyz"]["get"]["security"] == []

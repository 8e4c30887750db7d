"""Write openapi.yaml from the code, or check that the committed one is current.

``python -m app.openapi_file write|check`` (``make openapi`` / ``make openapi-check``).
The spec is generated in memory from the same schemas that validate requests.
"""

import sys

import yaml

from app.config import PROJECT_ROOT

SPEC_PATH = PROJECT_ROOT / "openapi.yaml"


def render() -> str:
    from app import create_app

    app = create_app({"DATABASE_URL": "sqlite://", "CELERY_BROKER_URL": "memory://"})
    spec = app.extensions["api"].spec.to_dict()
    return yaml.safe_dump(spec, sort_keys=True, allow_unicode=True)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    current = render()
    if command == "write":
        SPEC_PATH.write_text(current, encoding="utf-8")
        print(f"wrote {SPEC_PATH}")
        return 0
    if SPEC_PATH.read_text(encoding="utf-8") != current:
        print("openapi.yaml is out of date: run `make openapi` and commit it.", file=sys.stderr)
        return 1
    print("openapi.yaml is current")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""The README's quickstart, run as a newcomer would run it, against a live embedded stack."""

import subprocess
from pathlib import Path

import pytest

from tests.factories import Factory
from tests.worker_stack import ROOT, ApiServer, Stack, database

pytestmark = pytest.mark.worker


def _quickstart_block() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("```sh\n", readme.index("<!-- quickstart -->")) + len("```sh\n")
    return readme[start:readme.index("\n```", start)]


def test_readme_quickstart_runs_end_to_end(tmp_path):
    for folder in ("tests", "examples"):  # the block's relative paths, without writing into the repo
        (tmp_path / folder).symlink_to(ROOT / folder)
    with database("embedded", tmp_path) as (url, broker):
        stack = Stack(url, broker, tmp_path, WEBHOOK_ALLOWED_NETWORKS="127.0.0.1/32")
        server = ApiServer(stack)
        stack.start()
        server.start()
        try:
            _admin, headers = Factory(stack.app, stack.app.test_client()).login("admin")
            env = {**stack.env, "MH": f"http://127.0.0.1:{server.port}",
                   "ADMIN": headers["Authorization"].removeprefix("Bearer ")}
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", _quickstart_block()],
                                  cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
        finally:
            server.kill()
            stack.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "publish article=" in done.stdout  # the receiver printed the delivery
    assert lines[-1] == "running"  # the headline test started on publish
    assert Path(tmp_path / "chart.svg").read_text().startswith("<svg")

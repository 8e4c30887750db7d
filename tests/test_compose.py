"""docker-compose.yml cannot be run here (no Docker engine), so check what can be checked:
every service's command names something that exists in this project."""

import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml

from app import create_app
from app.extensions import CLEANUP_QUEUE, DELIVERIES_QUEUE, QUEUES, TASK_QUEUES

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
OURS = [name for name, spec in SERVICES.items() if spec.get("image") == "masthead:latest"]


def _argv(command) -> list[str]:
    return command if isinstance(command, list) else shlex.split(command)


def _check_flask(argv: list[str]) -> None:
    assert argv[1:3] == ["--app", "wsgi"]
    app = create_app({"DATABASE_URL": "sqlite://", "CELERY_BROKER_URL": "memory://"})
    group = app.cli.get_command(None, argv[3])
    assert group is not None, argv
    assert group.get_command(None, argv[4]) is not None, argv


def _check_gunicorn(argv: list[str]) -> None:
    module, _, attribute = argv[-1].partition(":")
    assert (ROOT / f"{module}.py").exists()
    assert f"{attribute} = create_app()" in (ROOT / f"{module}.py").read_text()


def _check_celery(argv: list[str]) -> None:
    target = argv[argv.index("-A") + 1]
    assert importlib.util.find_spec(target) is not None, target
    subcommand = argv[argv.index("-A") + 2]
    assert subcommand in {"worker", "beat", "inspect", "flower"}
    if subcommand == "flower":  # a Celery plug-in: it must be installed with the project
        assert importlib.util.find_spec("flower") is not None


CHECKS = {"flask": _check_flask, "gunicorn": _check_gunicorn, "celery": _check_celery}


def test_expected_services_present():
    assert {"postgres", "redis", "api", "worker", "cleanup-worker", "beat", "migrate", "flower",
            "prometheus"} <= set(SERVICES)
    assert set(OURS) >= {"api", "worker", "cleanup-worker", "beat", "migrate", "flower"}


def test_prometheus_scrapes_the_api_with_the_metrics_token():
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics" and job["static_configs"][0]["targets"] == ["api:8000"]
    assert job["authorization"]["credentials_file"] == "/run/secrets/metrics_token"
    assert "metrics_token" in SERVICES["prometheus"]["secrets"]
    mounted = {volume.split(":")[0] for volume in SERVICES["prometheus"]["volumes"]}
    assert "./deploy/prometheus.yml" in mounted
    app = create_app({"DATABASE_URL": "sqlite://", "CELERY_BROKER_URL": "memory://"})
    assert "/metrics" in {rule.rule for rule in app.url_map.iter_rules()}


@pytest.mark.parametrize("name", OURS)
def test_service_command_exists(name):
    argv = _argv(SERVICES[name]["command"])
    CHECKS[argv[0]](argv)


@pytest.mark.parametrize("name", [n for n in SERVICES if n != "migrate"])
def test_long_running_services_have_health_checks(name):
    test = SERVICES[name]["healthcheck"]["test"]
    assert test[0] == "CMD" and test[1] in {"pg_isready", "redis-cli", "python", "celery", "wget"}


def test_procfile_and_dockerfile_use_the_same_entry_points():
    procfile = (ROOT / "Procfile").read_text()
    assert "wsgi:app" in procfile and "tasks.worker worker" in procfile
    assert "tasks.worker beat" in procfile
    assert "wsgi:app" in (ROOT / "Dockerfile").read_text()


def test_env_example_lists_every_setting():
    listed = {line.split("=")[0] for line in (ROOT / ".env.example").read_text().splitlines()
              if line and not line.startswith("#")}
    source = (ROOT / "app" / "config.py").read_text()
    read_from_env = set(re.findall(r'(?:environ\.get|_int|_float|_bool)\("([A-Z_]+)"', source))
    assert len(read_from_env) > 10
    assert read_from_env == listed, read_from_env ^ listed


def _queues(argv: list[str]) -> set[str]:
    """The queues a `celery worker` command consumes (all of them without --queues)."""
    for flag in ("--queues", "-Q"):
        if flag in argv:
            return set(argv[argv.index(flag) + 1].split(","))
    return set(QUEUES)


def _procfile() -> dict[str, list[str]]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {name.strip(): shlex.split(command) for name, command in
            (line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))}


def _workers(commands: dict[str, list[str]]) -> dict[str, set[str]]:
    return {name: _queues(argv) for name, argv in commands.items()
            if "tasks.worker" in argv and argv[argv.index("tasks.worker") + 1] == "worker"}


@pytest.mark.parametrize("deployment", ["compose", "procfile"])
def test_cleanup_and_deliveries_have_their_own_workers(deployment):
    """Every queue is consumed, and no process takes both cleanup and deliveries: a huge
    page can then never hold up a delivery (tests/test_cleanup_worker.py shows it)."""
    commands = ({name: _argv(spec["command"]) for name, spec in SERVICES.items() if name in OURS}
                if deployment == "compose" else _procfile())
    workers = _workers(commands)
    assert set().union(*workers.values()) == set(QUEUES)
    assert all(not {CLEANUP_QUEUE, DELIVERIES_QUEUE} <= queues for queues in workers.values()), workers
    assert set(TASK_QUEUES.values()) == {CLEANUP_QUEUE, DELIVERIES_QUEUE}


def test_compose_restarts_every_long_running_service():
    """Docker starts again a process that exits (a Celery worker does when Redis restarts)."""
    for name, spec in SERVICES.items():
        expected = "no" if name == "migrate" else "unless-stopped"
        assert spec.get("restart") == expected, name


def test_make_run_supervises_every_process():
    """honcho restarts nothing: each Procfile process runs under scripts/supervise.py."""
    processes = _procfile()
    assert set(processes) == {"web", "worker", "cleanup", "beat"}
    for name, argv in processes.items():
        assert argv[:2] == ["python", "scripts/supervise.py"] and "--" in argv, name
        assert argv[argv.index("--name") + 1] == name
    assert (ROOT / "scripts" / "supervise.py").exists()

"""Test fixtures.

Every API test runs against SQLite and, when configured, real PostgreSQL. Each test runs
inside one outer transaction that is rolled back afterwards; the app's own commits
become savepoints on that connection, so tests never see each other's data.
"""

import socket
from types import SimpleNamespace

import pytest
from sqlalchemy import update

from app import create_app, migrate
from app.extensions import db
from app.models import Article, Base
from tests.factories import Factory
from tests.services import REQUIRE_SERVICES, configured, empty_test_redis_databases, scratch_postgres

BACKENDS = ["sqlite", "postgresql"]


def make_app(database_url: str, **overrides):
    config = {"DATABASE_URL": database_url, "CELERY_BROKER_URL": "memory://", "TESTING": True,
              "SERVING_REFRESH_SECONDS": 0, "FAILED_AUTH_PER_MINUTE": 10 ** 6, **overrides}
    return create_app(config)


@pytest.fixture(scope="session", autouse=True)
def _empty_test_redis_at_the_end():
    """Leave the test Redis databases as found: empty (CI's kept thousands of keys)."""
    yield
    empty_test_redis_databases()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'masthead.db'}"
        migrate.upgrade(url)
        yield url
        return
    server = configured("DATABASE_URL", "postgresql")
    if server is None:
        if REQUIRE_SERVICES:
            pytest.fail("REQUIRE_SERVICES=1 but TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL not configured: set TEST_DATABASE_URL")
    with scratch_postgres(server) as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def session_app(database_url):
    return make_app(database_url)


@pytest.fixture
def app(session_app):
    sessions = session_app.extensions["database"]
    engine = sessions.kw["bind"]
    connection = engine.connect()
    outer = connection.begin()
    sessions.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session_app
    finally:
        sessions.configure(bind=engine, join_transaction_mode="conservative_savepoint")
        outer.rollback()
        connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def factory(app, client):
    return Factory(app, client)


@pytest.fixture
def admin(factory):
    return factory.login("admin")


@pytest.fixture
def editor(factory):
    return factory.login("editor")


@pytest.fixture
def writer(factory):
    return factory.login("writer")


@pytest.fixture(scope="session")
def committed_database_url(request, tmp_path_factory):
    """A second database for tests whose data must really commit (threads, workers)."""
    server = configured("DATABASE_URL", "postgresql")
    if server is None:
        url = f"sqlite:///{tmp_path_factory.mktemp('committed') / 'masthead.db'}"
        migrate.upgrade(url)
        yield url
        return
    with scratch_postgres(server) as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture
def committed_app_factory(committed_database_url):
    """Build apps (with config overrides) whose commits are real; tables are emptied after."""
    apps = []

    def build(**overrides):
        apps.append(make_app(committed_database_url, **overrides))
        return apps[-1]

    yield build
    if apps:
        _empty_tables(apps[0])
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def committed_app(committed_app_factory):
    return committed_app_factory()


def _empty_tables(app) -> None:
    with app.app_context(), db.engine.begin() as connection:
        # articles <-> article_revisions reference each other: cut the cycle first.
        connection.execute(update(Article).values(
            latest_revision_id=None, approved_revision_id=None, live_revision_id=None))
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def resolver(monkeypatch):
    """The process's resolver (socket.getaddrinfo), answering for names under .test:
    ``answers[name]`` is a fixed answer, ``scripts[name]`` a list of answers taken one per
    lookup (the last one repeats), which is how a rebinding DNS server behaves;
    ``hooks[name]`` runs before answering (to interleave other work with an attempt).
    Other names resolve as usual; ``lookups`` counts lookups per name. Tests connect only
    to loopback answers."""
    state = SimpleNamespace(answers={}, scripts={}, hooks={}, lookups={})
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if not str(host).endswith(".test"):
            return real(host, port, *args, **kwargs)
        state.lookups[host] = state.lookups.get(host, 0) + 1
        if host in state.hooks:
            state.hooks[host]()
        script = state.scripts.get(host)
        answer = script.pop(0) if script and len(script) > 1 else (script or [None])[0]
        answer = state.answers.get(host) if answer is None else answer
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in answer]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return state


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of this test only (no persistence): the shared Redis is never taken down."""
    from tests.worker_stack import RedisServer
    server = RedisServer(tmp_path / "redis.log")
    server.start()
    try:
        yield server
    finally:
        server.kill()

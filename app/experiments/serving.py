"""What the public serving and event endpoints know, held in memory by each API process.

The hot path (which headline does this visitor see; is this event's experiment and
candidate real) reads an immutable ``Snapshot`` and never touches the database. A
background thread per process refreshes the snapshot every SERVING_REFRESH_SECONDS:
incrementally (rows changed since the last refresh, with an overlap for clock skew),
and in full every FULL_REFRESH_SECONDS so nothing missed can linger.

Sticky assignment is a hash, not a stored row: a visitor's point u = mix(H(visitor) xor
salt) in [0, 2^64) is fixed for the experiment (H is BLAKE2b, computed once per request;
mix is the splitmix64 finaliser, so points are independent across experiments), and arms
own consecutive slices of that range sized by the current weights, in a fixed order.
No per-visitor storage or lookup is needed on the hot path, every API process agrees,
and when the weights move only the visitors whose point a slice boundary crosses switch
arms (a share equal to how far the boundaries moved, small per recomputation). Events
carry the candidate actually shown, so a switch never credits a click to the wrong
headline. Once an experiment ends, everyone gets the winner.
"""

import bisect
import functools
import hashlib
import itertools
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    ACTIVE_STATUSES,
    Article,
    Experiment,
    ExperimentStatus,
    Site,
    utcnow,
)
from app.text import direction

log = logging.getLogger(__name__)
FULL_REFRESH_SECONDS = 60
CLOCK_SKEW = timedelta(seconds=10)


MASK = 2 ** 64 - 1
_direction = functools.lru_cache(maxsize=256)(direction)  # a few tags, each asked per arm


def visitor_hash(visitor: str) -> int:
    """64 bits of the visitor id, computed once per request."""
    return int.from_bytes(hashlib.blake2b(visitor.encode(), digest_size=8).digest(), "big")


def _item(article: Article, text: str, candidate_id: str | None, experiment_id: str | None) -> str:
    """One article's entry of a serving response, encoded once per snapshot, not per request.

    The language and direction let a page render the text right (``lang``, ``dir``)."""
    return json.dumps({"article_id": article.id, "headline": text, "candidate_id": candidate_id,
                       "experiment_id": experiment_id, "language": article.language,
                       "direction": _direction(article.language)},
                      ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class LiveExperiment:
    id: str
    status: ExperimentStatus
    arms: tuple[str, ...]
    texts: tuple[str, ...]
    bounds: tuple[int, ...]  # cumulative weights scaled to 2**64; the last is 2**64
    salt: int
    default_index: int
    weighted_arms: tuple[tuple[str, float], ...] = ()  # (arm, weight) as served now


@dataclass(frozen=True)
class LiveArticle:
    id: str
    items: tuple[str, ...]  # encoded entries: one per arm while a test runs, else one
    salt: int = 0
    bounds: tuple[int, ...] = ()

    def item_for(self, visitor: int) -> str:
        """The encoded entry (headline, candidate, experiment) this visitor sees.

        The visitor's point is their hash xor the salt through the splitmix64 finaliser (a
        bijection that spreads every input bit); the arm is the slice the point falls in.
        Inlined: this runs once per article per serving request.
        """
        items = self.items
        if len(items) == 1:
            return items[0]
        point = visitor ^ self.salt
        point = ((point ^ (point >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        point = ((point ^ (point >> 27)) * 0x94D049BB133111EB) & MASK
        return items[bisect.bisect_right(self.bounds, point ^ (point >> 31))]


@dataclass(frozen=True)
class Snapshot:
    articles: dict[str, LiveArticle] = field(default_factory=dict)
    # Experiments events may name (active ones, and recently concluded ones for a clear reason).
    experiments: dict[str, LiveExperiment] = field(default_factory=dict)
    sites: dict[str, str] = field(default_factory=dict)  # publishable key -> site id
    loaded_at: datetime | None = None
    full_at: float = 0.0


def load(previous: Snapshot | None) -> Snapshot:
    """A new snapshot: everything, or what changed since ``previous`` was loaded."""
    started = utcnow()
    full = previous is None or time.monotonic() - previous.full_at > FULL_REFRESH_SECONDS
    since = None if full else previous.loaded_at - CLOCK_SKEW
    articles = {} if full else dict(previous.articles)
    experiments = {} if full else dict(previous.experiments)
    changed, tests = _changed_articles(since)
    experiments.update({test.id: test for test in tests.values()})
    for article in changed:
        live = _live(article, tests.get(article.id))
        if live is None:
            articles.pop(article.id, None)
        else:
            articles[article.id] = live
    return Snapshot(articles, experiments, _sites(), started,
                    time.monotonic() if full else previous.full_at)


def _changed_articles(since: datetime | None) -> tuple[list[Article], dict[str, LiveExperiment]]:
    """Articles (live ones; or all changed since ``since``) and their latest experiments."""
    query = select(Article).options(joinedload(Article.live_revision))
    if since is None:
        query = query.where(Article.live_revision_id.is_not(None), Article.deleted_at.is_(None))
    else:
        moved = select(Experiment.article_id).where(Experiment.updated_at >= since)
        query = query.where((Article.updated_at >= since) | Article.id.in_(moved))
    changed = list(db.session.scalars(query))
    return changed, _experiments([a.id for a in changed], since)


def _live(article: Article, experiment: LiveExperiment | None) -> LiveArticle | None:
    if article.live_revision is None or article.deleted_at is not None:
        return None
    if experiment is not None and experiment.status == ExperimentStatus.RUNNING:
        items = tuple(_item(article, text, arm, experiment.id)
                      for arm, text in zip(experiment.arms, experiment.texts, strict=True))
        return LiveArticle(article.id, items, experiment.salt, experiment.bounds)
    if experiment is not None and experiment.status == ExperimentStatus.PAUSED:
        index = experiment.default_index
        item = _item(article, experiment.texts[index], experiment.arms[index], None)
        return LiveArticle(article.id, (item,))
    if article.canonical_headline_id is not None:  # a test's winner, with its approved text
        return LiveArticle(article.id, (_item(article, article.canonical_headline_text,
                                              article.canonical_headline_id, None),))
    return LiveArticle(article.id, (_item(article, article.live_revision.headline, None, None),))


def _experiments(article_ids: list[str], since: datetime | None) -> dict[str, LiveExperiment]:
    """The latest experiment of each article: active, or concluded within the dedup window."""
    recent = utcnow() - timedelta(hours=current_app.config["EVENT_DEDUP_HOURS"])
    query = select(Experiment).where(
        Experiment.status.in_(ACTIVE_STATUSES) | (Experiment.updated_at >= (since or recent)))
    if since is not None:
        query = query.where(Experiment.article_id.in_(article_ids))
    found = {}
    for experiment in db.session.scalars(query.order_by(Experiment.started_at, Experiment.id)):
        found[experiment.article_id] = _live_experiment(experiment)
    return found


def _live_experiment(experiment: Experiment) -> LiveExperiment:
    bounds = [round(b * 2 ** 64) for b in itertools.accumulate(experiment.weights)]
    bounds[-1] = 2 ** 64
    return LiveExperiment(
        experiment.id, experiment.status, tuple(experiment.arm_ids),
        tuple(experiment.arm_texts), tuple(bounds),
        int(experiment.salt[:16], 16), experiment.arm_ids.index(experiment.default_candidate_id),
        tuple(zip(experiment.arm_ids, experiment.weights, strict=True)),
    )


def _sites() -> dict[str, str]:
    return dict(db.session.execute(select(Site.key, Site.id).where(Site.is_active)).all())


class ServingCache:
    """The process's current snapshot, refreshed in the background."""

    def __init__(self, app: Flask):
        self.app = app
        self.snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self._thread_pid: int | None = None

    def get(self) -> Snapshot:
        interval = self.app.config["SERVING_REFRESH_SECONDS"]
        if interval <= 0 or self.snapshot is None:
            self.refresh()  # first use (or the test setting): load in this request
        if interval > 0 and self._thread_pid != os.getpid():
            self._start(interval)
        return self.snapshot

    def current(self) -> Snapshot:
        """``get`` for callers outside an app context (app/api/public_wsgi.py): a load made
        in the call (first use, or the test setting) gets one."""
        if self.snapshot is None or self.app.config["SERVING_REFRESH_SECONDS"] <= 0:
            with self.app.app_context():
                return self.get()
        return self.get()

    def refresh(self) -> None:
        with self._lock:
            self.snapshot = load(self.snapshot)

    def _start(self, interval: float) -> None:
        with self._lock:
            if self._thread_pid == os.getpid():
                return
            self._thread_pid = os.getpid()  # threads do not survive a fork: one per process
        threading.Thread(target=self._run, args=(interval,), daemon=True,
                         name="serving-refresh").start()

    def _run(self, interval: float) -> None:
        while True:
            time.sleep(interval)
            try:
                with self.app.app_context():
                    self.refresh()
            except Exception:  # keep serving the last good snapshot; try again next time
                log.exception("serving snapshot refresh failed")


def cache() -> ServingCache:
    return current_app.extensions["serving"]

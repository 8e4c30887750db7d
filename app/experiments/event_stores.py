"""Where accepted events are made durable before the 2xx: Redis, or the database.

Both stores apply the same rules per event, in batch order, atomically per batch:
a repeated event id is a duplicate; a click needs an earlier impression of the same
candidate by the same visitor that has no click yet (so clicks never exceed impressions),
and an engaged event an earlier click that has no engaged event yet; everything else is
counted, each accepted impression with the weights then in force (``Weights``: the
expected split, for the sample-ratio check). Both also count outcomes for metrics.

- ``DatabaseEventStore`` (the embedded default, and any deployment without Redis) writes
  the counts straight into experiment_counts in the request's transaction.
- ``RedisEventStore`` runs one Lua script per batch (atomic in Redis) that increments a
  pending hash; ``flush`` moves that hash aside under a unique name, adds it to
  experiment_counts and records the name in the same transaction, then deletes it. A
  crash at any point either leaves the batch to be applied later or finds it recorded:
  the database ends up with every accepted event exactly once. Run Redis with
  ``appendonly yes`` and ``appendfsync always`` (as docker-compose.yml does) so a batch
  answered 2xx is on disk, and as a single node (the script builds its keys, so it is
  not Redis Cluster safe); cap its memory with ``maxmemory`` and ``noeviction`` so a flood
  of visitors is refused (503) rather than evicting counters.
"""

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import msgspec
import redis
from flask import current_app
from sqlalchemy import delete, select, update

from app.errors import DomainError
from app.experiments import experiment_counts
from app.experiments.events import Event
from app.experiments.experiment_counts import FIELDS, Tally
from app.extensions import db
from app.ids import new_id
from app.models import EventCounter, EventFlush, Experiment, ExperimentExposure, SeenEvent, utcnow
from app.platform.uow import transaction, upsert

Weights = dict[str, list[tuple[str, float]]]  # experiment id -> (arm, weight in force) pairs

PENDING = "mh:events:pending"
FLUSHING = "mh:events:flush:"
METRICS = "mh:events:metrics"

# ARGV: period (epoch seconds), dedup ttl, visitor ttl, the events as lines of
# "kind TAB experiment TAB candidate TAB visitor TAB event id" (validated: none of them can
# hold a tab or a newline), the validation rejections as a JSON object {reason: count},
# and the weights in force as JSON. Returns one letter per event: Accepted, Duplicate,
# Click without impression or Engaged without click. One round trip per batch.
# What visitors were shown is read with one HMGET and written with one HSET per test, not
# a call per event (each write is also a line of the fsync'd AOF): Redis runs the script
# alone, so reading, applying the rules in batch order on a copy, and writing is atomic.
RECORD_SCRIPT = """
local period, dedup_ttl, visitor_ttl = ARGV[1], ARGV[2], ARGV[3]
-- What a click needs before it (impression), and what an engaged event needs (click).
local needs = {c = ':i', e = ':c', i = ':i'}
local refusals = {c = 'C', e = 'E'}
local events, wanted = {}, {}
local line = '(%a)\\t([^\\t]*)\\t([^\\t]*)\\t([^\\t]*)\\t([^\\n]*)\\n'
for kind, exp, cand, visitor, eid in string.gmatch(ARGV[4], line) do
  local base = cand .. ':' .. visitor
  local counted, needed = base .. ':' .. kind, base .. needs[kind]
  events[#events + 1] = {kind, exp, cand, eid, counted, needed}
  local fields = wanted[exp]
  if not fields then fields = {}; wanted[exp] = fields end
  if not fields[counted] then fields[counted] = true; fields[#fields + 1] = counted end
  if not fields[needed] then fields[needed] = true; fields[#fields + 1] = needed end
end
local seen, changed = {}, {}
for exp, fields in pairs(wanted) do
  local values, read = {}, redis.call('HMGET', 'mh:events:seen:' .. exp, unpack(fields))
  for index, field in ipairs(fields) do values[field] = tonumber(read[index] or '0') end
  seen[exp], changed[exp] = values, {}
end
local outcomes, counts, shown = {}, {}, {}
local tally = {accepted = 0, duplicate = 0, click_without_impression = 0, engaged_without_click = 0}
for _, event in ipairs(events) do
  local kind, exp, cand, eid, counted, needed = unpack(event)
  local values, outcome = seen[exp], 'A'
  local id_key = 'mh:events:id:' .. exp .. ':' .. eid
  if eid ~= '' and not redis.call('SET', id_key, '1', 'NX', 'EX', dedup_ttl) then
    outcome = 'D'
  elseif kind ~= 'i' and values[needed] <= values[counted] then
    outcome = refusals[kind]
    if eid ~= '' then redis.call('DEL', id_key) end  -- not counted: a retry is not a duplicate
  else
    values[counted] = values[counted] + 1
    changed[exp][counted] = true
    if kind == 'i' then shown[exp] = (shown[exp] or 0) + 1 end
  end
  if outcome == 'A' then
    local field = exp .. '|' .. cand .. '|' .. period .. '|' .. kind
    counts[field] = (counts[field] or 0) + 1
    tally.accepted = tally.accepted + 1
  elseif outcome == 'D' then
    tally.duplicate = tally.duplicate + 1
  elseif outcome == 'C' then
    tally.click_without_impression = tally.click_without_impression + 1
  else
    tally.engaged_without_click = tally.engaged_without_click + 1
  end
  outcomes[#outcomes + 1] = outcome
end
-- What each visitor was shown: one hash per experiment, expiring with it.
for exp, fields in pairs(changed) do
  local writes = {}
  for field in pairs(fields) do
    writes[#writes + 1] = field
    writes[#writes + 1] = seen[exp][field]
  end
  local seen_key = 'mh:events:seen:' .. exp
  if #writes > 0 then redis.call('HSET', seen_key, unpack(writes)) end
  redis.call('EXPIRE', seen_key, visitor_ttl)
end
for field, count in pairs(counts) do redis.call('HINCRBY', KEYS[1], field, count) end
-- The impressions each arm's weight intended: accepted impressions x the weights in force.
local weights = cjson.decode(ARGV[6])
for exp, count in pairs(shown) do
  for _, arm in ipairs(weights[exp]) do
    redis.call('HINCRBYFLOAT', KEYS[1], exp .. '|' .. arm[1] .. '|' .. period .. '|x', count * arm[2])
  end
end
for reason, count in pairs(cjson.decode(ARGV[5])) do tally[reason] = (tally[reason] or 0) + count end
for reason, count in pairs(tally) do
  if count > 0 then redis.call('HINCRBY', KEYS[2], reason, count) end
end
return table.concat(outcomes)
"""
OUTCOMES = {"A": "accepted", "D": "duplicate", "C": "click_without_impression",
            "E": "engaged_without_click"}
# Move the pending hash aside atomically (a plain RENAME fails when there is none).
MOVE_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[2])
  return 1
end
return 0
"""


def event_store():
    """The configured store, one per app (its Redis connection pool is shared by threads)."""
    stores = current_app.extensions
    if "event_store" not in stores:
        url = current_app.config["EVENTS_REDIS_URL"]
        stores["event_store"] = RedisEventStore(url) if url else DatabaseEventStore()
    return stores["event_store"]


class EventStoreUnavailable(DomainError):
    status, slug, title = 503, "event-store-unavailable", "Event store unavailable"

    def headers(self) -> dict | None:
        return {"Retry-After": "5"}


class DatabaseEventStore:
    name = "database"

    def record(self, events: list[Event], period: datetime, rejected: list[str],
               weights: Weights) -> list[str]:
        with transaction():
            counts: dict = defaultdict(Tally)
            outcomes = [self._one(event) for event in events]
            for event, outcome in zip(events, outcomes, strict=True):
                if outcome != "accepted":
                    continue
                key = (event.experiment_id, event.candidate_id, period)
                counts[key] += Tally(**{FIELDS[event.kind]: 1})
                if event.kind == "i":
                    for arm, weight in weights[event.experiment_id]:
                        counts[(event.experiment_id, arm, period)] += Tally(expected=weight)
            experiment_counts.add(counts)
            self._count(Counter(outcomes) + Counter(rejected))
        return outcomes

    def _one(self, event: Event) -> str:
        if event.event_id and not self._first_sighting(event):
            return "duplicate"
        if event.kind == "i":
            statement = upsert(ExperimentExposure).values(
                experiment_id=event.experiment_id, visitor=event.visitor,
                candidate_id=event.candidate_id, impressions=1, clicks=0, engaged=0)
            db.session.execute(statement.on_conflict_do_update(
                index_elements=["experiment_id", "visitor", "candidate_id"],
                set_={"impressions": ExperimentExposure.impressions + 1}))
            return "accepted"
        if self._follows(event):
            return "accepted"
        if event.event_id:  # not counted, so a corrected retry with this id must not be a duplicate
            db.session.execute(delete(SeenEvent).where(SeenEvent.experiment_id == event.experiment_id,
                                                       SeenEvent.event_id == event.event_id))
        return "click_without_impression" if event.kind == "c" else "engaged_without_click"

    def _first_sighting(self, event: Event) -> bool:
        statement = upsert(SeenEvent).values(experiment_id=event.experiment_id,
                                             event_id=event.event_id, received_at=utcnow())
        inserted = statement.on_conflict_do_nothing().returning(SeenEvent.event_id)
        return db.session.execute(inserted).first() is not None

    def _follows(self, event: Event) -> bool:
        """Count a click after an unclicked impression, an engaged event after a click."""
        exposure = ExperimentExposure
        counted, before = ((exposure.clicks, exposure.impressions) if event.kind == "c"
                           else (exposure.engaged, exposure.clicks))
        statement = update(exposure).where(
            exposure.experiment_id == event.experiment_id, exposure.visitor == event.visitor,
            exposure.candidate_id == event.candidate_id, counted < before,
        ).values({counted.key: counted + 1})
        return db.session.execute(statement).rowcount == 1

    def _count(self, outcomes: Counter) -> None:
        for outcome, count in sorted(outcomes.items()):
            statement = upsert(EventCounter).values(outcome=outcome, count=count)
            db.session.execute(statement.on_conflict_do_update(
                index_elements=["outcome"], set_={"count": EventCounter.count + count}))

    def flush(self) -> int:
        return 0  # counts are written as events arrive

    def metrics(self) -> dict[str, int]:
        return dict(db.session.execute(select(EventCounter.outcome, EventCounter.count)).all())

    def pending(self) -> int:
        return 0

    def purge(self, now: datetime) -> int:
        """Forget event ids older than the deduplication window, and what visitors of tests
        that ended before it were shown (no event for them is accepted any more)."""
        older_than = now - timedelta(hours=current_app.config["EVENT_DEDUP_HOURS"])
        ended = select(Experiment.id).where(Experiment.ended_at < older_than)
        with transaction():
            ids = db.session.execute(delete(SeenEvent).where(SeenEvent.received_at < older_than))
            shown = db.session.execute(delete(ExperimentExposure)
                                       .where(ExperimentExposure.experiment_id.in_(ended)))
            return ids.rowcount + shown.rowcount


class RedisEventStore:
    name = "redis"

    def __init__(self, url: str):
        self.redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self._record = self.redis.register_script(RECORD_SCRIPT)
        self._move = self.redis.register_script(MOVE_SCRIPT)

    def record(self, events: list[Event], period: datetime, rejected: list[str],
               weights: Weights) -> list[str]:
        config = current_app.config
        dedup_ttl = config["EVENT_DEDUP_HOURS"] * 3600
        visitor_ttl = config["EXPERIMENT_MAX_HOURS"] * 3600 + 86400
        args = [int(period.timestamp()), dedup_ttl, visitor_ttl,
                "".join(f"{kind}\t{test}\t{arm}\t{visitor}\t{event_id}\n"
                        for kind, test, arm, visitor, event_id in events),
                msgspec.json.encode(Counter(rejected)), msgspec.json.encode(weights or {})]
        try:
            codes = self._record(keys=[PENDING, METRICS], args=args)
        except redis.RedisError as error:  # nothing was accepted: the client may resend all
            raise EventStoreUnavailable("Events cannot be stored right now; send the batch "
                                        "again shortly (event ids make that safe).") from error
        return [OUTCOMES[code] for code in codes.decode()]

    def flush(self) -> int:
        """Apply pending counters to the database exactly once; returns the events applied."""
        self._move(keys=[PENDING, f"{FLUSHING}{new_id()}"])
        applied = 0
        for key in sorted(self.redis.scan_iter(match=f"{FLUSHING}*", count=100)):
            applied += self._apply(key.decode())
        return applied

    def _apply(self, key: str) -> int:
        flush_id = key.removeprefix(FLUSHING)
        counts = _parse_pending(self.redis.hgetall(key))
        total = sum(t.impressions + t.clicks + t.engaged for t in counts.values())
        with transaction() as session:
            # Claim the batch: another flusher (or this one before a crash stopped the delete
            # below) may have applied it; the primary key lets exactly one transaction in.
            claim = upsert(EventFlush).values(id=flush_id, events=total, applied_at=utcnow())
            if session.execute(claim.on_conflict_do_nothing().returning(EventFlush.id)).first() is None:
                total = 0
            else:
                experiment_counts.add(counts)
        self.redis.delete(key)  # only after the commit: a crash before this re-finds it recorded
        return total

    def metrics(self) -> dict[str, int]:
        return {k.decode(): int(v) for k, v in self.redis.hgetall(METRICS).items()}

    def pending(self) -> int:
        """Accepted events not yet flushed (the intended-split sums are not events)."""
        keys = [PENDING, *self.redis.scan_iter(match=f"{FLUSHING}*", count=100)]
        return sum(int(value) for key in keys for field, value in self.redis.hgetall(key).items()
                   if not field.endswith(b"|x"))

    def purge(self, now: datetime) -> int:
        """The flush ledger only needs to outlive a crashed flush; a week is ample."""
        with transaction():
            ledger = delete(EventFlush).where(EventFlush.applied_at < now - timedelta(days=7))
            return db.session.execute(ledger).rowcount


def _parse_pending(raw: dict[bytes, bytes]) -> dict:
    counts: dict = defaultdict(Tally)
    for field, value in raw.items():
        experiment_id, candidate_id, period, kind = field.decode().split("|")
        start = datetime.fromtimestamp(int(period), UTC)
        tally = Tally(expected=float(value)) if kind == "x" else Tally(**{FIELDS[kind]: int(value)})
        counts[(experiment_id, candidate_id, start)] += tally
    return dict(counts)

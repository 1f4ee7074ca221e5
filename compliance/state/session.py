"""One scan's use of the state: lock, read, and (after the reports are written) one commit.

    session = StateSession.open(path, lock_timeout)     # waits for the lock, opens the database
    cache = session.cache(pack, waivers, today, max_bytes)
    result = scan(..., cache=cache)
    run = session.prepare_run(documents, cache, ...)    # new/resolved, counts; nothing written
    ... write reports ...
    session.commit(alert)                               # one transaction, the webhook alert queued in it
    session.close()                                     # releases the lock

Until `commit`, nothing on disk changes: an interrupted or failed run leaves the previous
state as it was.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from compliance import __version__
from compliance.errors import ComplianceError
from compliance.checks.rulepack import RulePack
from compliance.checks.suppressions import Waiver
from compliance.model import DocumentResult
from compliance.state.cache import ScanCache
from compliance.state.history import Comparison, by_location, compare, findings_digest, open_findings
from compliance.state.lock import StateLock
from compliance.state.incremental import CatalogueSnapshot
from compliance.state.store import DocumentRow, RunChanges, RunRecord, StateStore, refuse_unless_regular


def lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lock")


@dataclass
class PreparedRun:
    record: RunRecord
    comparison: Comparison
    changes: RunChanges


class StateSession:
    def __init__(self, store: StateStore, lock: StateLock):
        self.store = store
        self.lock = lock
        self.prepared: PreparedRun | None = None
        self._documents: dict[str, DocumentRow] | None = None
        # What every run reads anyway, read at opening (see `open`) and handed over once:
        self._digests: tuple[dict[str, tuple[str, int]], bool] | None = None  # StateStore.open_digests
        self._snapshot: CatalogueSnapshot | None = None

    @classmethod
    def open(cls, path: Path, lock_timeout: float) -> "StateSession":
        """Locked and read: a damaged database is found here, where a default state can still
        be given up for a scan without state, rather than halfway through the scan."""
        if not path.name or path.is_dir():  # `--state .`, `state: /`: no file name to put the lock beside
            raise ComplianceError("is a folder; --state needs a file name", str(path))
        refuse_unless_regular(path)  # before the lock: `--state /dev/null` made /dev/null.lock
        lock = StateLock(lock_path(path), lock_timeout)
        lock.acquire()
        store = None
        try:
            store = StateStore.open(path)
            session = cls(store, lock)
            session._documents = store.documents()
            # The other tables every run reads, read now too: a page damaged under any of them
            # is found while a default state can still be given up.
            session._digests, session._snapshot = store.open_digests(), store.catalogue_snapshot()
            return session
        except BaseException:
            if store is not None:
                store.close()
            lock.release()
            raise

    def cache(self, pack: RulePack, waivers: list[Waiver], today: dt.date, max_bytes: int, fetch_mode: str = "off") -> ScanCache:
        documents = self._documents if self._documents is not None else self.store.documents()
        self._documents = None  # the cache owns them now
        snapshot = self._snapshot if self._snapshot is not None else self.store.catalogue_snapshot()
        self._snapshot = None
        return ScanCache(documents, pack, waivers, today, max_bytes, fetch_mode, snapshot, self.store.traces, self.store.result)

    def prepare_run(self, documents: list[DocumentResult], cache: ScanCache, started: dt.datetime, duration: float,
                    paths: list[str]) -> PreparedRun:
        """Compare with the open findings of the last run and build what `commit` will write.

        An unchanged document's open findings are known by the counts and digest the state
        kept (`DocumentResult.tally`): read back only when its location's digest changed."""
        locations = [d.repository_path for d in documents]
        tallies = [d.tally for d in documents]
        # Two documents at one location share a digest: counted from their findings.
        tallied = len(set(locations)) == len(locations)
        counted = [d for d, tally in zip(documents, tallies) if tally is None] if tallied else documents
        kept = [tally for tally in tallies if tally is not None] if tallied else []
        current = open_findings(counted)
        scope = set(locations) | cache.previous_locations()
        digests, complete = self._digests if self._digests is not None else self.store.open_digests()
        self._digests = None
        now = {location: findings_digest(found) for location, found in by_location(current).items()}
        if tallied:
            now.update((location, (tally.open_digest, tally.active)) for location, tally in zip(locations, tallies)
                       if tally is not None and tally.active)
        moved = cache.moved()
        every_digest = None
        if complete:
            # Run after run, most locations' open findings are the ones stored (the same digest):
            # those are neither read, nor compared (nothing there is new or resolved), nor written.
            changed = {location for location in scope if digests.get(location) != now.get(location)}
            changed |= set(moved) | set(moved.values())
            previous = self.store.open_findings_at(sorted(changed))
            others = sum(count for _, count in digests.values()) - sum(digests[loc][1] for loc in scope if loc in digests)
            if kept:  # the changed locations' open findings, in report order
                current_changed = open_findings([d for d in documents if d.repository_path in changed])
            else:
                current_changed = [o for o in current if o.location in changed]
        else:  # digests missing (an older state) or damaged: everything read once, every digest written again
            current = open_findings(documents)
            kept = []
            known = self.store.open_findings()
            before, after = by_location([o for o in known if o.location in scope]), by_location(current)
            changed = {loc for loc in before.keys() | after.keys() if before.get(loc) != after.get(loc)}
            changed |= set(moved) | set(moved.values())
            previous = [o for o in known if o.location in changed]
            outside = [o for o in known if o.location not in scope]
            others = len(outside)
            every_digest = {**{loc: findings_digest(found) for loc, found in by_location(outside).items()}, **now}
            current_changed = [o for o in current if o.location in changed]
        comparison = compare(previous, current_changed, moved)
        # Rewritten whole when the digests did not add up: a row of the wrong types is dropped.
        written = current_changed if every_digest is None else outside + current
        changes = RunChanges(upserts=cache.upserts, deletes=cache.vanished, scope=changed & scope, open=written, traces=cache.traces,
                             digests={loc: now[loc] for loc in changed if loc in now}, every_digest=every_digest,
                             carry=cache.carry, invalidated=cache.invalidated(), catalogue_fp=cache.catalogue_fp, snapshot=cache.new_snapshot(),
                             signatures=cache.signatures, outcomes=cache.outcomes)
        by_severity = Counter(o.severity for o in current)
        by_rule = Counter(o.rule for o in current)
        for tally in kept:
            for severity, rule, n in tally.counts:
                by_severity[severity] += n
                by_rule[rule] += n
        found = len(current) + sum(tally.active for tally in kept)
        record = RunRecord(
            started=started.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), duration=duration,
            version=__version__, documents=len(documents), rechecked=cache.rechecked, findings=found,
            open=others + found, new=len(comparison.new), resolved=len(comparison.resolved),
            by_severity={s: by_severity.get(s, 0) for s in ("error", "warning", "info")},
            by_rule=dict(sorted(by_rule.items())), paths=paths,
        )
        self.prepared = PreparedRun(record, comparison, changes)
        return self.prepared

    def history(self, limit: int = 30) -> list[RunRecord]:
        """The last runs, this one (not yet committed) included when prepared."""
        runs = self.store.runs(limit)
        if self.prepared is not None:
            runs = (runs + [self.prepared.record])[-limit:]
        return runs

    def commit(self, alert: Callable[[RunRecord], tuple[str, str]] | None = None) -> RunRecord:
        """`alert`: see StateStore.commit_run."""
        assert self.prepared is not None, "prepare_run first"
        self.store.commit_run(self.prepared.record, self.prepared.changes, alert)
        return self.prepared.record

    def close(self) -> None:
        try:
            self.store.close()
        finally:
            self.lock.release()

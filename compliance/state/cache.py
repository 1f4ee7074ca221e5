"""The scan's view of the state: hands back stored results that still hold, records new ones.

The pipeline asks `lookup` for every repost file before checking it and `record`s what it
checked; nothing is written here. The CLI turns `changes()` into one transaction after the
reports are written, so an interrupted run leaves the previous state intact.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from compliance.checks.rulepack import RulePack
from compliance.checks.suppressions import Waiver
from compliance.errors import ComplianceError, InputError
from compliance.ingest import load_document
from compliance.ingest.read import read_bytes
from compliance.ingest.discover import RealPaths
from compliance.model import DocumentResult, LookupTrace, Source
from compliance.state.incremental import (
    CatalogueChange, CatalogueSnapshot, Current, Stored, affected_files, cacheable, catalogue_fingerprint, content_hash,
    file_signature, outcome_json, recheck_reason, result_from_json, result_from_outcome, result_json, rules_fingerprint,
    touched_keys, trace_keys,
)
from compliance.state.store import DocumentRow


def _under(file: str, roots: list[Path]) -> bool:
    path = Path(file)
    for root in roots:
        if path == root or root in path.parents:
            return True
    return False


class CatalogueView(Protocol):
    """What the state asks of the catalogue a scan matches against, besides its digests."""

    def source_keys(self, ids: Iterable[str]) -> np.ndarray:
        """The distinct band keys of these sources as they are now."""

    def bucket_sizes(self, keys: np.ndarray) -> np.ndarray:
        """How many sources hold each key now."""

    def overfull_keys(self) -> np.ndarray:
        """Every key held by more than MAX_BUCKET sources, sorted (read through the whole index)."""

    def source_ids(self, numbers: set[int]) -> dict[int, str]:
        """The ids of sources by the numbers the matcher knows them by."""


class ScanCache:
    def __init__(self, stored: dict[str, DocumentRow], pack: RulePack, waivers: list[Waiver], today: dt.date, max_bytes: int,
                 fetch_mode: str = "off", snapshot: CatalogueSnapshot | None = None,
                 traces: Callable[[str], list[tuple[str, bytes, str]]] = lambda fp: [],
                 results: Callable[[str], str | None] = lambda file: None):
        self.stored = stored
        self._results = results  # a file's full stored result, read only when it is restored (`StateStore.result`)
        self.snapshot = snapshot
        self._traces = traces
        # With credited pages fetched, the catalogue's URLs decide which links are fetched:
        # any catalogue change re-checks everything.
        self._follows_catalogue = fetch_mode == "off"
        self.carried_fp: str | None = None  # the stored catalogue, when this run's change leaves most results as they are
        self.affected: set[str] = set()  # files whose results that change may alter
        self._overfull: np.ndarray | None = None  # the overfull keys now, once known
        self._lookups: dict[str, LookupTrace | None] = {}  # file -> trace of what this run checked
        self.change: CatalogueChange | None = None
        self.catalogue: CatalogueView | None = None
        self.traces: list[tuple[str, bytes, str]] = []  # (file, keys, candidate ids) of what this run checked
        self.max_bytes = max_bytes
        self.rules_fp = rules_fingerprint(pack, waivers, today, max_bytes, fetch_mode)
        self.sources: Mapping[str, Source] = {}
        self.digests: dict[str, str] = {}
        self.catalogue_fp = ""
        self.vanished: list[str] = []  # files in the state, under the scanned folders, no longer there
        self._hashes: dict[str, str] = {}  # file -> content hash as this run read it
        self._signatures: dict[str, str | None] = {}  # file -> its stat signature, taken before it was read
        self.signatures: list[tuple[str, str]] = []  # (signature, file) of stored files read again and found unchanged
        self.outcomes: list[tuple[str, str]] = []  # (outcome, file) of stored results restored whole, kept without one
        self._upserts: list[DocumentRow] = []
        self.cached = 0
        self.rechecked = 0
        self.reasons: dict[str, str] = {}  # report path -> why it was re-checked
        # Reports other than HTML read a result's findings and match, not its document: parsing
        # every unchanged file again would be most of a rescan's cost.
        self.documents_needed = True
        self.resolved = RealPaths()  # a file's real path: the key it is stored under

    def prepare(self, digests: dict[str, str], sources: Mapping[str, Source], roots: list[Path],
                discovered: list[tuple[Path, str]], catalogue: CatalogueView | None = None) -> None:
        """Before the first lookup: the catalogue this run matches against (each source's content
        hash, and the sources by id, read only to restore a match) and every file found. With
        `catalogue`, a change since the stored snapshot re-checks only the documents it touches."""
        self.sources = sources
        self.digests = digests
        self.catalogue_fp = catalogue_fingerprint(self.digests)
        self.catalogue = catalogue
        snapshot = self.snapshot
        if snapshot is not None and snapshot.fingerprint == self.catalogue_fp:
            self._overfull = snapshot.overfull
        elif snapshot is not None and catalogue is not None and self._follows_catalogue:
            self.change = CatalogueChange.between(snapshot.digests, digests)
            touched, self._overfull = touched_keys(catalogue.source_keys(sorted(self.change.fingerprinted)), snapshot.overfull,
                                                   catalogue.bucket_sizes)
            self.affected = affected_files(self._traces(snapshot.fingerprint), touched, self.change.gone)
            self.carried_fp = snapshot.fingerprint
        seen = {self.resolved(file) for file, _ in discovered}
        resolved_roots = [root.resolve() for root in roots]
        self.vanished = sorted(f for f in self.stored if f not in seen and _under(f, resolved_roots))

    def lookup(self, file: Path, report_path: str, location: str) -> DocumentResult | None:
        """The stored result when it still holds (with the document parsed again when a report
        needs it), else None."""
        key = self.resolved(file)
        row = self.stored.get(key)
        # Looked at before the bytes are read: an edit between the two is then seen next time.
        try:
            signature = file_signature(os.stat(file), time.time_ns())
        except OSError:
            signature = None
        # The signature names the hash it stands for: a damaged hash in the state is not taken on trust.
        if signature is not None and row is not None and row.signature == f"{signature}/{row.stored.content_hash}":
            digest = row.stored.content_hash  # the bytes stored results were hashed from, not read again
        else:
            try:
                digest = content_hash(read_bytes(file, self.max_bytes))
            except InputError:
                return None  # the check reports why it cannot be read (too large, not a regular file...)
            if signature is not None and row is not None and digest == row.stored.content_hash:
                self.signatures.append((f"{signature}/{digest}", key))  # touched, copied back, or stored before signatures
        self._hashes[key] = digest
        self._signatures[key] = None if signature is None else f"{signature}/{digest}"
        current = Current(report_path, location, digest, self.rules_fp, self.catalogue_fp)
        carried = None if key in self.affected else self.carried_fp
        reason = recheck_reason(row.stored if row else None, current, self.digests, carried)
        if reason is None:
            result = self._restore(row, file, report_path, location)
            if result is not None:
                self.cached += 1
                return result
            reason = "stored result unusable"
        self.reasons[report_path] = reason
        return None

    def _restore(self, row: DocumentRow, file: Path, report_path: str, location: str) -> DocumentResult | None:
        try:
            if row.outcome is not None and not self.documents_needed:
                result = result_from_outcome(row.outcome, report_path, location, lambda: self._restore_matches(row, report_path, location),
                                             self.digests)
            else:
                reload = (lambda: load_document(file, report_path, self.max_bytes)) if self.documents_needed else (lambda: None)
                result = result_from_json(row.result or self._results(row.file) or "", report_path, location, reload, self.sources)
        except (InputError, ValueError, KeyError, TypeError):
            return None  # a file that changed under us, or a row we cannot read: check it again
        # The row was rendered from this very result (same path, rules, code and sources' digests):
        # writing it as it is spares the report's largest cost for every unchanged repost.
        result.json_row = row.report_row
        if row.outcome is None:  # a row of an older state: the next run restores only this
            try:
                self.outcomes.append((outcome_json(result), row.file))
            except (TypeError, ValueError):
                pass
        return result

    def _restore_matches(self, row: DocumentRow, report_path: str, location: str) -> DocumentResult:
        """The whole stored result of an unchanged document whose matches are read after all.
        Its outcome was read and found sound; a full result that is not is a damaged state, and
        the document can no longer be checked in this run instead."""
        try:
            return result_from_json(self._results(row.file) or "", report_path, location, lambda: None, self.sources)
        except (ValueError, KeyError, TypeError):
            raise ComplianceError(f"the state's stored result of {report_path} is damaged; remove the state to check everything "
                                  "again, or scan with --no-state") from None

    def record(self, file: Path, result: DocumentResult) -> None:
        self.rechecked += 1
        key = self.resolved(file)
        digest = self._hashes.get(key)
        if digest is None or not cacheable(result):
            return
        try:
            payload, outcome = result_json(result), outcome_json(result)
        except (TypeError, ValueError):
            return  # evidence JSON cannot carry: not cached, checked again next time
        source_id = result.match.source.id if result.match else None
        stored = Stored(result.path, result.location, digest, self.rules_fp, self.catalogue_fp, source_id,
                        self.digests.get(source_id) if source_id else None)
        self._upserts.append(DocumentRow(key, stored, payload, self._signatures.get(key), result.json_row, outcome))
        self._lookups[key] = result.lookup

    def finish(self) -> None:
        """After the last `record`, while the catalogue is still the one matched against: the
        candidates' ids, and the overfull keys when no snapshot said them."""
        if self.catalogue is None:
            return
        numbers = {n for lookup in self._lookups.values() if lookup is not None for n in lookup.candidates}
        ids = self.catalogue.source_ids(numbers) if numbers else {}
        empty = np.zeros(0, np.uint64)
        # A document without a trace (a candidate the index no longer names) is re-checked at
        # the next catalogue change, as if it had one that every change touches.
        self.traces = [(file, trace_keys(lookup.keys if lookup is not None else empty),
                        json.dumps([ids[n] for n in lookup.candidates] if lookup is not None else [], ensure_ascii=False))
                       for file, lookup in self._lookups.items()
                       if lookup is None or all(n in ids for n in lookup.candidates)]
        if self._overfull is None:
            self._overfull = self.catalogue.overfull_keys()

    def new_snapshot(self) -> CatalogueSnapshot | None:
        """The catalogue to store, when it is not the stored one."""
        if self._overfull is None or (self.snapshot is not None and self.snapshot.fingerprint == self.catalogue_fp):
            return None
        return CatalogueSnapshot(self.catalogue_fp, self.digests, self._overfull)

    @property
    def upserts(self) -> list[DocumentRow]:
        return self._upserts

    @property
    def carry(self) -> tuple[str, str] | None:
        """(the stored catalogue, this run's) when the results this run's change did not touch
        hold for its catalogue too."""
        return (self.carried_fp, self.catalogue_fp) if self.carried_fp is not None else None

    def invalidated(self) -> list[str]:
        """The files the catalogue change touched whose results this run did not replace."""
        replaced = {row.file for row in self._upserts if row.stored.catalogue_fp == self.catalogue_fp}
        return sorted(f for f in self.affected if f not in replaced)

    def moved(self) -> dict[str, str]:
        """Files now named otherwise with the same bytes (old location -> new): a state written
        when files were named from the working folder, or a scan from another folder."""
        moved = {}
        for row in self._upserts:
            before = self.stored.get(row.file)
            if before is not None and before.stored.location != row.stored.location \
                    and before.stored.content_hash == row.stored.content_hash:
                moved[before.stored.location] = row.stored.location
        return moved

    def previous_locations(self) -> set[str]:
        """Locations whose open findings this run replaces besides its own documents': files
        gone from the scanned folders, and files now seen from another path."""
        gone = {self.stored[f].stored.location for f in self.vanished}
        moved = {self.stored[row.file].stored.location for row in self._upserts if row.file in self.stored}
        return gone | moved

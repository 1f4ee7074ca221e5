"""Incremental scans: which reposts a scheduled run may take from the state instead of checking.

Pure functions: fingerprints of what decides a document's result, the decision "does this
document need re-checking?", and the exact round trip of a `DocumentResult` through JSON.

A document's result depends on
- its bytes (the content hash; in-document suppressions live there too),
- where it sits (its report path and real path from the project root: rule `paths:` and
  waivers match them),
- the rules fingerprint: the pack (rules, options, matching settings), the live waivers,
  `max_bytes` and the compliance version,
- the catalogue: the source it matched (id and digest of everything the checks read), and
  whether another source could now match it instead.

For the last point the state keeps each document's trace (`LookupTrace`): the band keys it
looked up and the sources they found (its ranked candidates). A document's matches are a
function of those candidates, their shared-key counts and their texts, so a catalogue change
can alter them only when
- a source among its candidates was edited or removed (verification read it), or
- a source added or edited holds one of its keys (it may now rank among the candidates), or
- one of its keys' buckets crossed `MAX_BUCKET` either way (a lookup passes over a bucket of
  more sources: a stock passage; removing sources can open one again).
A source removed or edited that was not among its candidates changes no candidate's count
and ranked below the last: the ranking (by shared keys, then source number) is unchanged.
The state therefore also keeps the catalogue it last matched against (`CatalogueSnapshot`:
each source's content hash, and the keys of overfull buckets), and a run re-checks only the
documents the difference touches (`touched_keys`, `ScanCache.prepare`). A rule-pack or
configuration change still re-checks everything, and so does any catalogue change when
credited pages are fetched (the catalogue's URLs decide which links are fetched).

Keys are kept as their top 32 bits: a new source's key that only shares those with a
document's re-checks it needlessly (about one document in a thousand for 50 new sources),
never the other way round.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Protocol

import numpy as np

from compliance import __version__
from compliance.checks.rulepack import RulePack
from compliance.checks.suppressions import Waiver
from compliance.similarity import kernels
from compliance.similarity.index import MAX_BUCKET
from compliance.model import Document, DocumentResult, Finding, Match, Severity, Source, Span, Suppression, Tally, finding_fingerprint

RESULT_FORMAT = 3  # the JSON shape of a stored result; bump to invalidate every cached result (2: every source matched; 3: traces kept)


def _digest(payload: str) -> str:
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def content_hash(data: bytes) -> str:
    """The file's bytes, hashed: what decides whether a repost changed (its mtime only spares
    reading a file that looks as it did when hashed: `file_signature`)."""
    return hashlib.sha256(data).hexdigest()[:32]


# A file whose timestamps are this close to the moment it was looked at may still change
# within the same timestamp (file systems that keep whole or two seconds, kernels that stamp
# files from a clock ticking every few milliseconds): its signature is not trusted, and the
# file is hashed until it has been left alone that long (git's "racily clean" entries).
RACY_NS = 2_000_000_000


def file_signature(status: os.stat_result, now_ns: int) -> str | None:
    """What stands for a repost's bytes between runs without reading them, as git's index does:
    size, modification and change times (ns), inode and device. Restoring the modification time
    after an edit (`touch -d`, `cp -p`, a checkout) cannot restore the change time, so such an
    edit is still seen; a copy or a restore from a backup gets a new inode and change time, and
    costs one read. None when the file is not a regular file or was changed too recently to
    trust (`RACY_NS`)."""
    if not stat.S_ISREG(status.st_mode) or now_ns - max(status.st_mtime_ns, status.st_ctime_ns) < RACY_NS:
        return None
    return f"{status.st_size}:{status.st_mtime_ns}:{status.st_ctime_ns}:{status.st_ino}:{status.st_dev}"


def catalogue_fingerprint(digests: dict[str, str]) -> str:
    """The whole catalogue, from `{source id: similarity.store.content_hash}`: changes when any
    source is added, edited or removed, and not when the files are merely read in another order."""
    return _digest(json.dumps(sorted(digests.items())))


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """The compliance code itself, not only its version number: an editable install or a patched
    rule changes results without a new version (hashing ~100 kB of source costs a millisecond)."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".yaml") and path.is_file():
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:32]


def rules_fingerprint(pack: RulePack, waivers: list[Waiver], today: dt.date, max_bytes: int, fetch_mode: str = "off") -> str:
    """Everything besides the document and the catalogue that decides findings.

    Waivers count as they apply today: one that expired since the last run changes results
    even though the configuration file did not change. Whether credited pages are fetched
    (`off`, `offline`, `online`) decides whether a link can be verified at all.
    """
    live = sorted([list(w.paths), list(w.rules), w.reason, list(w.fingerprints)] for w in waivers if not w.expired(today))
    payload = json.dumps([code_fingerprint(), RESULT_FORMAT, pack.fingerprint(), live, max_bytes, fetch_mode])
    return _digest(payload)


@dataclass(frozen=True)
class Stored:
    """What the state remembers about one repost file, besides its result."""

    report_path: str
    location: str
    content_hash: str
    rules_fp: str
    catalogue_fp: str
    source_id: str | None
    source_digest: str | None


@dataclass(frozen=True)
class Current:
    """The same facts for the file as this run sees it."""

    report_path: str
    location: str
    content_hash: str
    rules_fp: str
    catalogue_fp: str


def recheck_reason(stored: Stored | None, current: Current, digests: dict[str, str], carried: str | None = None) -> str | None:
    """Why this document must be checked again, or None when its stored result still holds.
    `carried`: the fingerprint of the catalogue whose results this run's change leaves as they
    are (the caller has re-checked the documents it touches)."""
    if stored is None:
        return "new"
    if stored.content_hash != current.content_hash:
        return "content changed"
    if (stored.report_path, stored.location) != (current.report_path, current.location):
        return "path changed"
    if stored.rules_fp != current.rules_fp:
        return "rules changed"
    if stored.source_id is not None and digests.get(stored.source_id) != stored.source_digest:
        return "matched source changed"
    if stored.catalogue_fp != current.catalogue_fp and stored.catalogue_fp != carried:
        return "catalogue changed"
    return None


# ---------------------------------------------------------------------------------------------
# The catalogue between two runs.


@dataclass(frozen=True)
class CatalogueSnapshot:
    """The catalogue the stored results were last validated against."""

    fingerprint: str
    digests: dict[str, str]  # source id -> content hash
    overfull: np.ndarray  # uint64, sorted: keys held by more than MAX_BUCKET sources


@dataclass(frozen=True)
class CatalogueChange:
    added: frozenset[str]
    edited: frozenset[str]
    removed: frozenset[str]

    @classmethod
    def between(cls, before: dict[str, str], now: dict[str, str]) -> "CatalogueChange":
        return cls(frozenset(i for i in now if i not in before), frozenset(i for i, d in now.items() if i in before and before[i] != d),
                   frozenset(i for i in before if i not in now))

    @property
    def fingerprinted(self) -> frozenset[str]:
        """Sources whose keys (as they are now) may be new to a document."""
        return self.added | self.edited

    @property
    def gone(self) -> frozenset[str]:
        """Sources whose text as a document's candidate is no longer what its result read."""
        return self.edited | self.removed


class BucketSizes(Protocol):
    def __call__(self, keys: np.ndarray) -> np.ndarray: ...


def touched_keys(new_keys: np.ndarray, overfull_before: np.ndarray, sizes: BucketSizes) -> tuple[np.ndarray, np.ndarray]:
    """(the keys whose lookup may answer otherwise now, the overfull keys now), from the keys
    of the sources added or edited (`new_keys`, distinct), the overfull keys of the last run,
    and `sizes` of buckets in the index as it is now.

    A key's bucket grows only by a source added or edited, so a key can have become overfull
    only among `new_keys`; it shrinks only by a source edited or removed, and a key that was
    overfull is known. A new key in a bucket overfull before and now changes nothing."""
    over_new = new_keys[sizes(new_keys) > MAX_BUCKET] if len(new_keys) else new_keys
    still = sizes(overfull_before) > MAX_BUCKET if len(overfull_before) else np.zeros(0, bool)
    overfull_now = np.union1d(overfull_before[still], over_new).astype(np.uint64)
    quiet = np.intersect1d(over_new, overfull_before)  # passed over before and now
    touched = np.union1d(np.setdiff1d(new_keys, quiet), overfull_before[~still]).astype(np.uint64)
    return touched, overfull_now


def _holds_any(candidates: str, ids: frozenset[str]) -> bool:
    """Whether a trace's candidates (JSON) name any of `ids`; a damaged list counts as yes.
    Parsed only when sources were edited or removed: most runs only add."""
    try:
        listed = json.loads(candidates)
    except (ValueError, RecursionError):
        return True
    return not isinstance(listed, list) or not ids.isdisjoint(i for i in listed if isinstance(i, str))


def trace_keys(keys: np.ndarray) -> bytes:
    """A document's keys as the state keeps them: their top 32 bits, distinct, sorted."""
    return np.unique((np.asarray(keys, dtype=np.uint64) >> np.uint64(32)).astype("<u4")).tobytes()


def affected_files(traces: Iterable[tuple[str, bytes | None, str | None]], touched: np.ndarray, gone: frozenset[str]) -> set[str]:
    """The files of `traces` (file, `trace_keys`, candidate ids as JSON) that hold a touched
    key or had a source gone among their candidates, or have no trace. One pass over all
    keys, compiled."""
    files, blobs, affected = [], [], set()
    for file, blob, candidates in traces:
        if blob is None or candidates is None or (gone and _holds_any(candidates, gone)):
            affected.add(file)
        else:
            files.append(file)
            blobs.append(blob)
    if not files or not len(touched):
        return affected
    values = np.frombuffer(b"".join(blobs), dtype="<u4")
    ends = np.cumsum([len(blob) // 4 for blob in blobs])
    wanted = np.unique((touched >> np.uint64(32)).astype(np.uint32))
    held = kernels.rows_holding(values, ends, wanted)
    affected.update(file for file, hit in zip(files, held.tolist()) if hit)
    return affected


_RETRIED_RULES = {"internal-error", "attribution-unverified"}


def cacheable(result: DocumentResult) -> bool:
    """A crash, or a credited page that could not be had (a timeout, a budget spent), is not
    remembered: the next run tries again."""
    return not any(f.rule in _RETRIED_RULES for f in result.findings)


# ---------------------------------------------------------------------------------------------
# DocumentResult <-> JSON. The document itself is not stored: it is parsed again from the same
# bytes (cheap, no matching), so reports of a cached run are identical to those of a full one.


def _finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule, "severity": f.severity.value, "message": f.message, "line": f.line, "column": f.column,
        "end_line": f.end_line, "excerpt": f.excerpt, "evidence": f.evidence,
        "suppression": None if f.suppression is None else [f.suppression.kind, f.suppression.reason],
    }


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise ValueError(f"stored result: {what}")


def _whole(value: Any, least: int = 0) -> bool:
    return type(value) is int and value >= least


def _fraction(value: Any) -> bool:
    return type(value) in (int, float) and 0 <= value <= 1


_SEVERITIES = {s.value: s for s in Severity}  # a dict look-up: Severity(value) costs a microsecond, per finding restored


def _finding(d: dict[str, Any]) -> Finding:
    """A stored finding; ValueError (or KeyError) when it is not one `_finding_dict` wrote (a
    damaged state). The checks compare types directly: every unchanged finding passes here."""
    _check(type(d) is dict, "a finding is not an object")
    rule, message, excerpt, evidence = d["rule"], d["message"], d["excerpt"], d["evidence"]
    line, column, end_line, suppression = d["line"], d["column"], d["end_line"], d["suppression"]
    _check(type(rule) is str and type(message) is str and type(excerpt) is str and type(evidence) is dict, "texts")
    _check(type(line) is int and type(column) is int and line >= 1 and column >= 1
           and (end_line is None or type(end_line) is int and end_line >= 1), "lines")
    _check(suppression is None or type(suppression) is list and len(suppression) == 2
           and suppression[0] in ("inline", "waiver", "baseline") and type(suppression[1]) is str, "suppression")
    return Finding(rule, _SEVERITIES[d["severity"]], message, line, column, end_line, excerpt, evidence,
                   Suppression(*suppression) if suppression else None)


def _match_dict(match: Match) -> dict[str, Any]:
    return {
        "source": match.source.id, "containment": match.containment, "coverage": match.coverage,
        "copied_words": match.copied_words,
        "spans": [[s.doc_start, s.doc_end, s.source_start, s.source_end, s.line, s.end_line, list(s.doc_chars),
                   list(s.source_chars)] for s in match.spans],
    }


_INT = {int}


def _match(d: dict[str, Any], sources: dict[str, Source]) -> Match:
    _check(isinstance(d, dict) and isinstance(d["spans"], list), "match")
    _check(_fraction(d["containment"]) and _fraction(d["coverage"]) and _whole(d["copied_words"]), "match figures")
    spans = []
    # The same checks as `_whole` each value, without a generator per span: restoring every
    # stored result is most of an unchanged run, and its spans most of that.
    for a, b, c, e, line, end, dc, sc in d["spans"]:
        _check(type(dc) is list and type(sc) is list, "span characters")
        (x, y), (z, w) = dc, sc  # ValueError unless two each
        _check(set(map(type, (a, b, c, e, line, end, x, y, z, w))) == _INT and min(a, b, c, e, x, y, z, w) >= 0
               and line >= 1 and end >= 1, "span")
        spans.append(Span(a, b, c, e, line, end, (x, y), (z, w)))
    return Match(sources[d["source"]], d["containment"], d["coverage"], d["copied_words"], spans)


def result_json(result: DocumentResult) -> str:
    """Raises TypeError when evidence holds something JSON cannot carry (the result is then not cached)."""
    payload = {
        "format": result.format, "title": result.title, "has_document": result.has_document,
        "matches": [_match_dict(match) for match in result.matches], "findings": [_finding_dict(f) for f in result.findings],
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def result_from_json(text: str, report_path: str, location: str, load_document: Callable[[], Document],
                     sources: dict[str, Source]) -> DocumentResult:
    """`load_document` parses the file again; called only when the result had a document.
    ValueError (or KeyError, TypeError) when `text` is not a result `result_json` wrote."""
    try:
        d = json.loads(text)
    except RecursionError:
        raise ValueError("stored result: nested too deeply") from None
    _check(isinstance(d, dict) and d["format"] in ("txt", "md", "html", "folder") and isinstance(d["title"], str)
           and isinstance(d["findings"], list), "not a stored result")
    document = load_document() if d["has_document"] else None
    _check(isinstance(d["matches"], list), "matches")
    matches = [_match(match, sources) for match in d["matches"]]
    return DocumentResult(report_path, d["format"], d["title"], matches[0] if matches else None,
                          [_finding(f) for f in d["findings"]], document, location, matches=matches)


# ---------------------------------------------------------------------------------------------
# What a run needs of an unchanged result. Reports other than HTML, the exit code and the
# history read a result's findings (and their fingerprints) and whether it matched, and a JSON
# report copies its stored row: the matches, most of a stored result's bytes, and each matched
# source read from the index were restored for nothing (most of an unchanged run's cost).


def tally_of(result: DocumentResult) -> Tally:
    """The counts of `result`'s findings, and the digest of its open findings as the history
    keeps them (`findings_digest`, from the same path as the history takes them)."""
    from compliance.state.history import findings_digest, open_findings  # history reads the store, which reads this module

    counts: dict[tuple[str, str], int] = {}
    suppressed = 0
    for f in result.findings:
        if f.is_active:
            counts[f.severity.value, f.rule] = counts.get((f.severity.value, f.rule), 0) + 1
        else:
            suppressed += 1
    opened = open_findings([result])
    return Tally(tuple((s, r, n) for (s, r), n in sorted(counts.items())), suppressed, len(opened),
                 findings_digest(opened)[0] if opened else "")


def outcome_json(result: DocumentResult) -> str:
    """Two JSON lines: the counts of `result`'s findings (`tally_of`) and the ids of the sources
    it matched, read for every unchanged document; then its findings and their fingerprints
    (`finding_fingerprint`), parsed only when something reads them (a SARIF, JUnit or text
    report, a baseline, the history of a file whose open findings changed). Compact JSON holds
    no line break. Raises TypeError as result_json."""
    tally = tally_of(result)
    head = {
        "format": result.format, "title": result.title, "sources": [match.source.id for match in result.matches],
        "counts": tally.counts, "suppressed": tally.suppressed, "open": tally.open_digest,
    }
    detail = {"findings": [_finding_dict(f) for f in result.findings],
              "fingerprints": [finding_fingerprint(result.repository_path, f) for f in result.findings]}
    return json.dumps(head, ensure_ascii=False, separators=(",", ":")) + "\n" + json.dumps(detail, ensure_ascii=False, separators=(",", ":"))


class StoredResult(DocumentResult):
    """An unchanged document's result as `outcome_json` kept it: its counts (`tally`) now; its
    findings (`findings`, `fingerprints`) the first time something reads them; its matches
    (`match`, `matches`) restored from the full stored result the first time something reads
    them (a baseline marking findings, a report row rendered again). No document: reports that
    show texts restore the whole result instead. A copy (`dataclasses.replace`: a baseline)
    is built from its findings and keeps no counts or fingerprints."""

    def __getattr__(self, name: str) -> Any:
        # Called only for what is not set yet: the findings or the matches, once each.
        if name == "findings" and "_detail" in self.__dict__:
            self._read_findings()
            return self.__dict__["findings"]
        restore = self.__dict__.pop("_restore", None) if name in ("match", "matches") else None
        if restore is None:
            raise AttributeError(name)
        full = restore()
        self.__dict__.update(match=full.match, matches=full.matches)
        return self.__dict__[name]

    def _read_findings(self) -> None:
        """The stored findings, checked against the counts the run has already reported from:
        a state damaged here can no longer be re-checked in this run."""
        (text, start), tally = self.__dict__.pop("_detail"), self.__dict__["_tally"]
        try:
            d, end = _DECODER.raw_decode(text, start)
            _check(end == len(text) and type(d) is dict, "not the findings")
            findings = [_finding(f) for f in d["findings"]]
            fingerprints = d["fingerprints"]
            _check(type(fingerprints) is list and len(fingerprints) == len(findings)
                   and all(type(f) is str for f in fingerprints), "fingerprints")
            self.__dict__.update(findings=findings, _fingerprints=fingerprints)
            _check(tally_of(self) == tally, "the findings are not those counted")
        except (ValueError, KeyError, TypeError, RecursionError):
            from compliance.errors import ComplianceError

            raise ComplianceError(f"the state's stored findings of {self.path} are damaged; remove the state to check "
                                  "everything again, or scan with --no-state") from None

    @property
    def tally(self) -> Tally | None:
        return self.__dict__.get("_tally")

    @property
    def matched(self) -> bool:
        return self.match is not None if "match" in self.__dict__ else self.__dict__["_matched"]

    @property
    def fingerprints(self) -> list[str] | None:
        """Each finding's fingerprint as stored; None once the findings may be others (a copy)."""
        if "_detail" in self.__dict__:
            self._read_findings()
        return self.__dict__.get("_fingerprints")


_DECODER = json.JSONDecoder()


def _counts(value: Any) -> tuple[tuple[str, str, int], ...]:
    if value == []:
        return ()  # most documents: no finding
    _check(type(value) is list, "counts")
    counts = []
    for entry in value:
        _check(type(entry) is list and len(entry) == 3, "counts")
        severity, rule, n = entry
        _check(severity in _SEVERITIES and type(rule) is str and type(n) is int and n >= 1, "counts")
        counts.append((severity, rule, n))
    return tuple(counts)


def result_from_outcome(text: str, report_path: str, location: str, restore: Callable[[], DocumentResult],
                        catalogue: Mapping[str, str]) -> StoredResult:
    """`restore` rebuilds the whole result when the matches are read; `catalogue`: the ids of
    the sources matched against (source id -> digest). ValueError (or KeyError, TypeError) when
    `text` is not an outcome `outcome_json` wrote, or names a source `catalogue` does not."""
    cut = text.find("\n")  # the second line is left where it is (not copied) until it is read
    _check(cut > 0, "not a stored outcome")
    try:
        d = json.loads(text[:cut])
    except RecursionError:
        raise ValueError("stored outcome: nested too deeply") from None
    _check(isinstance(d, dict) and d["format"] in ("txt", "md", "html", "folder") and isinstance(d["title"], str)
           and type(d["sources"]) is list, "not a stored outcome")
    # A source it matched that the catalogue no longer holds (a credited page fetched, not
    # catalogued) could not be restored: the document is checked again, as the whole result's
    # restoring did before (KeyError).
    _check(all(type(i) is str and i in catalogue for i in d["sources"]), "a matched source is not in the catalogue")
    counts, suppressed, digest = _counts(d["counts"]), d["suppressed"], d["open"]
    active = sum(n for _, _, n in counts)
    _check(type(suppressed) is int and suppressed >= 0 and type(digest) is str and (digest == "") == (active == 0), "counts")
    result = object.__new__(StoredResult)
    # The fields DocumentResult.__init__ would set, but `findings`, `match` and `matches`: see __getattr__.
    result.__dict__.update(path=report_path, format=d["format"], title=d["title"], document=None, location=location,
                           text_dropped=False, _restore=restore, _matched=bool(d["sources"]), _detail=(text, cut + 1),
                           _tally=Tally(counts, suppressed, active, digest))
    return result


__all__ = [
    "CatalogueChange", "CatalogueSnapshot", "Current", "Stored", "StoredResult", "affected_files", "cacheable", "catalogue_fingerprint",
    "content_hash", "file_signature", "outcome_json", "recheck_reason", "tally_of",
    "result_from_json", "result_from_outcome", "result_json", "rules_fingerprint", "touched_keys", "trace_keys",
]

"""The HTML report: a folder a reviewer can open in a browser and decide from.

`write_html_report` renders `index.html`, one page per document with findings under
`documents/`, and `report.json` (the JSON report) into a temporary sibling folder, then
renames it into place as `run-<UTC timestamp>` and points the `latest` symlink at it.
Earlier runs stay untouched until the new one is complete; then `prune_runs` removes the
oldest run folders beyond a count, and nothing else.

The index is a queue (what needs a decision first); pages carry the attributes a review
server hooks its controls on, and show the decisions a `ReportInput` holds (the contract is
in docs/reports.md#decisions-in-the-html-report).

All document text goes through Jinja2 with autoescaping; nothing here builds HTML from
strings. Pages are self-contained (inline CSS and JS, no network) and carry a strict
Content-Security-Policy that allows only the inline style and script by their hashes.
"""
from __future__ import annotations

import base64
import datetime as dt
import difflib
import hashlib
import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from compliance import __version__
from compliance.errors import ComplianceError
from compliance.leftovers import remove_leftovers
from compliance.model import Block, Document, DocumentResult, Finding, Severity, Source, finding_fingerprint
from compliance.report.context import ReportInput
from compliance.report.json_report import to_json
from compliance.report.summary import summarize

_HERE = Path(__file__).parent
_TEMPLATES = _HERE / "templates"
_STATIC = _HERE / "static"
SEVERITIES = [s.value for s in sorted(Severity, key=lambda s: -s.rank)]


# ---------------------------------------------------------------------------------------------
# Text with highlighted ranges, as data the template escapes


@dataclass
class Segment:
    text: str
    classes: list[str] = field(default_factory=list)
    id: str = ""  # set on the first segment of a range
    target: str = ""  # id of the counterpart the click scrolls to
    title: str = ""

    @property
    def marked(self) -> bool:
        return bool(self.classes)


@dataclass(frozen=True)
class Range:
    start: int
    end: int
    cls: str
    id: str
    target: str = ""
    title: str = ""


def segments(text: str, ranges: Iterable[Range], extra_cuts: Iterable[int] = ()) -> list[Segment]:
    """Cut `text` at every range boundary (and at `extra_cuts`); each piece lists the ranges covering it."""
    ranges = [r for r in ranges if 0 <= r.start < r.end <= len(text)]
    cuts = sorted({0, len(text), *(r.start for r in ranges), *(r.end for r in ranges),
                   *(c for c in extra_cuts if 0 < c < len(text))})
    started: set[str] = set()
    out: list[Segment] = []
    for a, b in zip(cuts, cuts[1:]):
        covering = [r for r in ranges if r.start <= a and b <= r.end]
        if not covering:
            out.append(Segment(text[a:b]))
            continue
        segment = Segment(text[a:b], classes=sorted({cls for r in covering for cls in r.cls.split()}))
        # the innermost (shortest) range decides where a click goes
        # (among the ranges that lead somewhere: a quote inside a copied run still jumps)
        primary = min([r for r in covering if r.target] or covering, key=lambda r: r.end - r.start)
        segment.target = primary.target
        segment.title = " / ".join(r.title for r in covering if r.title)
        # ids go on a range's first piece; when two ranges start together the shorter one gets
        # it and the other takes its next free piece
        for r in sorted(covering, key=lambda r: r.end - r.start):
            if r.id and r.id not in started and not segment.id:
                started.add(r.id)
                segment.id = r.id
                segment.target = r.target or segment.target
        out.append(segment)
    return out


@dataclass
class Row:
    """One numbered row of a pane: a block of the repost (its first line in the file) or a
    line of a source's text. Rows hold whole pieces, so no <mark> straddles two rows."""

    line: int
    end_line: int
    segments: list[Segment]


def rows(text: str, ranges: Iterable[Range], bounds: list[tuple[int, int, int, int]]) -> list[Row]:
    """`text` cut into rows at `bounds` ((start, end, line, end_line), in order); the text
    between rows (the blank line joining two blocks) is dropped."""
    pieces = segments(text, ranges, [c for b in bounds for c in b[:2]])
    out = [Row(line, end_line, []) for _, _, line, end_line in bounds]
    at = i = 0
    carried = ""  # a range's id that fell on a dropped piece goes to the next marked piece without one
    for piece in pieces:
        a, b = at, at + len(piece.text)
        at = b
        while i < len(bounds) and bounds[i][1] <= a:
            i += 1
        if i < len(bounds) and bounds[i][0] <= a and b <= bounds[i][1]:
            if carried and piece.marked and not piece.id:
                piece.id, carried = carried, ""
            out[i].segments.append(piece)
        elif piece.id:
            carried = piece.id
    return out


def _line_bounds(text: str) -> list[tuple[int, int, int, int]]:
    """Each non-empty line of a source's text, numbered from 1."""
    bounds, at = [], 0
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip():
            bounds.append((at, at + len(line), number, number))
        at += len(line) + 1
    return bounds


# Quoted speech: a reviewer may hide its highlighting (a quote is often reused legitimately).
_QUOTE = re.compile(r"“[^”\n]{2,800}”|\"[^\"\n]{2,800}\"|«[^»\n]{2,800}»|„[^“”\n]{2,800}[“”]")


def _quote_ranges(text: str) -> list[Range]:
    return [Range(m.start(), m.end(), "quote", "") for m in _QUOTE.finditer(text)]


def word_diff(expected: str, found: str) -> list[tuple[str, str]]:
    """Word-level difference from the expected text to the text found: (op, words) pairs.

    op is "equal", "del" (expected, missing from the document) or "ins" (in the document only).
    """
    a, b = expected.split(), found.split()
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("equal", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(("del", " ".join(a[i1:i2])))
        if j2 > j1:
            out.append(("ins", " ".join(b[j1:j2])))
    return out


# ---------------------------------------------------------------------------------------------
# View models


def page_name(path: str) -> str:
    """A safe, unique file name for a document's page: readable stem plus a short hash."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", path).strip("-.")[:60] or "document"
    digest = hashlib.sha256(path.encode("utf-8")).hexdigest()[:10]
    return f"{stem}-{digest}.html"


def safe_url(url: str | None) -> str | None:
    if url and re.match(r"https?://", url.strip(), re.IGNORECASE):
        return url.strip()
    return None


def status(result: DocumentResult) -> str:
    if any(f.is_active for f in result.findings):
        return "findings"
    return "suppressed" if result.findings else "clean"


def _severity_counts(findings: list[Finding]) -> dict[str, int]:
    counts = Counter(f.severity.value for f in findings if f.is_active)
    return {s: counts.get(s, 0) for s in SEVERITIES}


def _body_offsets(body: list[Block]) -> list[int]:
    offsets, at = [], 0
    for block in body:
        offsets.append(at)
        at += len(block.text) + 2
    return offsets


def _block_at(body: list[Block], line: int) -> int | None:
    for i, block in enumerate(body):
        if block.line <= line <= block.end_line:
            return i
    return None


SOURCE_COLOURS = 6  # report.css paints sources src-1 to src-6, and a seventh as the first again


def source_label(source: Source) -> str:
    """How a page names a source: its title and publisher (the id, often a hash, goes in small print)."""
    return f"“{source.title}” ({source.publisher})" if source.title else f"{source.publisher} ({source.id})"


def _source_views(result: DocumentResult, doc_ranges: list[Range]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each source the document copies, with its own colour: its spans, painted on the repost
    (added to `doc_ranges`) and on its text; and every copied passage, numbered in the order of
    the repost. The first source's ids are those of a report of one."""
    several = len(result.matches) > 1
    views, passages = [], []
    for k, match in enumerate(result.matches, 1):
        colour = f"src-{(k - 1) % SOURCE_COLOURS + 1}"
        prefix = "" if k == 1 else f"s{k}-"
        source = match.source
        src_ranges = _quote_ranges(source.text)
        for n, span in enumerate(match.spans, 1):
            title = f"copied run: {span.length} words, lines {span.line}–{span.end_line}"
            if several:
                title = f"{source.publisher}, {title}"
            doc_id, src_id = f"doc-{prefix}span-{n}", f"src-{prefix}span-{n}"
            doc_ranges.append(Range(*span.doc_chars, f"copy {colour}", doc_id, src_id, title))
            src_ranges.append(Range(*span.source_chars, f"copy {colour}", src_id, doc_id, title))
            passages.append({"start": span.doc_chars[0], "span": span, "source_number": k, "colour": colour,
                             "doc_id": doc_id, "src_id": src_id, "source": source})
        views.append({"match": match, "source": source, "colour": colour, "number": k, "label": source_label(source),
                      "text_id": "src-text" if k == 1 else f"src-text-{k}", "source_url": safe_url(source.url),
                      "rows": rows(source.text, src_ranges, _line_bounds(source.text))})
    passages.sort(key=lambda p: (p["start"], p["source_number"]))
    for number, passage in enumerate(passages, 1):
        passage["number"] = number
    return views, passages


_SNIPPET_WORDS = 14


def _snippet(text: str) -> str:
    words = text.split()
    return " ".join(words[:_SNIPPET_WORDS]) + (" …" if len(words) > _SNIPPET_WORDS else "")


def message_parts(message: str, sources: list[Source]) -> list[tuple[str, Source | None]]:
    """A finding's message cut where it names a source by id ("(source sh-ac1bfdd4c510)"), so
    that the page shows the source's title and publisher there, with the id in a tooltip."""
    by_id = {s.id: s for s in sources if s.id}
    if not by_id:
        return [(message, None)]
    names = "|".join(re.escape(i) for i in sorted(by_id, key=len, reverse=True))
    parts: list[tuple[str, Source | None]] = []
    at = 0
    for m in re.finditer(rf"\(source (?P<a>{names})\)|(?<![\w-])(?P<b>{names})(?![\w-])", message):
        parts.append((message[at:m.start()], None))
        parts.append((m.group(0), by_id[m.group("a") or m.group("b")]))
        at = m.end()
    parts.append((message[at:], None))
    return [(text, source) for text, source in parts if text]


def content_sha256(document: Document | None) -> str:
    """SHA-256 of the file's bytes as the scan read them ("" when it cannot be read again): the
    review server's test of whether a document changed since a decision (the state's content
    hash is its first 32 digits)."""
    if document is None or not document.file_path:
        return ""
    try:
        with open(document.file_path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return ""


def _repost_rows(body: list[Block], ranges: list[Range]) -> list[Row]:
    offsets = _body_offsets(body)
    bounds = [(at, at + len(b.text), b.line, b.end_line) for at, b in zip(offsets, body)]
    return rows("\n\n".join(b.text for b in body), ranges, bounds)


def _document_view(result: DocumentResult, report: ReportInput, nav: dict[str, Any]) -> dict[str, Any]:
    document = result.document
    body = document.body if document else []
    body_text = "\n\n".join(b.text for b in body)
    offsets = _body_offsets(body)
    doc_ranges: list[Range] = _quote_ranges(body_text)
    sources, passages = _source_views(result, doc_ranges)
    for passage in passages:
        span = passage.pop("span")
        passage.update(snippet=_snippet(body_text[span.doc_chars[0]:span.doc_chars[1]]), words=span.length,
                       line=span.line, end_line=span.end_line)
    all_sources = [m.source for m in result.matches]

    findings = []
    dup = 0
    for number, f in enumerate(result.findings, 1):
        fingerprint = finding_fingerprint(result.repository_path, f)
        view: dict[str, Any] = {"finding": f, "number": number, "diff": None, "missing": None, "dup_ids": [],
                                "fingerprint": fingerprint, "parts": message_parts(f.message, all_sources),
                                "decision": report.finding_decisions.get(fingerprint),
                                "new": report.new_fingerprints is not None and f.is_active and fingerprint in report.new_fingerprints}
        ev = f.evidence or {}
        if "expected" in ev:
            if ev.get("closest"):
                view["diff"] = word_diff(str(ev.get("expected") or ""), str(ev.get("closest") or ""))
                view["similarity"] = ev.get("similarity")
            else:  # nothing like a copy of it: a diff would only strike the whole text through
                view["missing"] = {"expected": str(ev.get("expected") or ""), "nearest": str(ev.get("nearest") or ""),
                                   "line": ev.get("nearest_line"), "similarity": ev.get("nearest_similarity")}
        if isinstance(ev.get("first"), dict) and isinstance(ev.get("second"), dict):
            dup += 1
            pair = []
            for which, label in (("first", "a"), ("second", "b")):
                part = ev[which]
                index = _block_at(body, int(part.get("line", 0) or 0))
                chars = part.get("chars") or []
                if index is None or len(chars) != 2:
                    continue
                start, end = offsets[index] + int(chars[0]), offsets[index] + int(chars[1])
                pair.append((start, end, f"dup-{dup}{label}"))
            for k, (start, end, rid) in enumerate(pair):
                other = pair[1 - k][2] if len(pair) == 2 else ""
                doc_ranges.append(Range(start, end, "dup", rid, other, f"duplicated ({f.rule})"))
            view["dup_ids"] = [rid for _, _, rid in pair]
        findings.append(view)

    attributions = []
    if document is not None:
        try:  # display only: the attribution lines the checks saw
            from compliance.checks.attribution import attribution_lines
            attributions = attribution_lines(document, document.blocks)
        except Exception:  # pragma: no cover - a report must render even if this helper changes
            attributions = []
    credited_lines = {a.line for a in attributions}
    for at, block in zip(offsets, body):
        if block.line in credited_lines:
            doc_ranges.append(Range(at, at + len(block.text), "quote attribution", ""))
    return {
        "result": result,
        "status": status(result),
        "counts": _severity_counts(result.findings),
        "findings": findings,
        "body": _repost_rows(body, doc_ranges),
        "has_body": bool(body_text),
        "sources": sources,
        "passages": passages,
        "attributions": attributions,
        "sha256": content_sha256(document),
        "decision": report.decisions.get(result.path),
        "nav": nav,
    }


_GROUPS = {"decide": 0, "decided": 1, "suppressed": 2, "clean": 3}


def _queue_key(row: dict[str, Any]) -> tuple:
    """Documents needing a decision first, the most severe first, then those with more or new
    findings; decided ones next, then suppressed and clean ones, each by path."""
    counts = row["counts"]
    return (_GROUPS[row["group"]], -row["rank"], -row["new"], *(-counts[s] for s in SEVERITIES), row["path"])


def _index_rows(report: ReportInput, pages: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    new = report.new_fingerprints
    for d in report.documents:
        counts = _severity_counts(d.findings)
        active = [f for f in d.findings if f.is_active]
        fresh = sum(1 for f in active if finding_fingerprint(d.repository_path, f) in new) if new and active else 0
        decision = report.decisions.get(d.path)
        state = status(d)
        group = "clean" if state == "clean" else "suppressed" if state == "suppressed" else "decided" if decision else "decide"
        rows.append({
            "path": d.path, "title": d.title, "page": pages.get(d.path),
            "source": d.match.source.id if d.match else "", "publisher": d.match.source.publisher if d.match else "",
            "source_title": (d.match.source.title or "") if d.match else "",
            "more": [m.source for m in d.matches[1:]], "publishers": "\n".join(dict.fromkeys(m.source.publisher for m in d.matches)),
            "containment": d.match.containment if d.match else None, "coverage": d.match.coverage if d.match else None,
            "counts": counts, "total": sum(counts.values()),
            "suppressed": sum(1 for f in d.findings if not f.is_active),
            "status": state, "group": group, "decision": decision, "new": fresh,
            "rank": max((f.severity.rank for f in active), default=-1),
            "rule_list": sorted({f.rule for f in active}) or sorted({f.rule for f in d.findings}),
            "rules": " ".join(sorted({f.rule for f in d.findings})),
            "severities": " ".join(sorted({f.severity.value for f in active})),
        })
    rows.sort(key=_queue_key)
    for number, row in enumerate(rows, 1):
        row["queue"] = number
    return rows


def _verdict(report: ReportInput, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The index's first line: does the gate pass, and how many documents wait for a reviewer."""
    failing = [r for r in rows if r["rank"] >= 0 and report.fail_on is not None and r["rank"] >= report.fail_on.rank]
    waiting = [r for r in rows if r["group"] == "decide"]
    return {"fails": bool(failing), "failing": len(failing), "waiting": len(waiting),
            "new": sum(1 for r in rows if r["new"]), "new_known": report.new_fingerprints is not None,
            "by_rank": {s: sum(1 for r in waiting if r["rank"] == Severity(s).rank) for s in SEVERITIES}}


def _chart(by_rule: dict[str, int]) -> dict[str, Any]:
    bar, gap, label_w, width = 22, 8, 190, 560
    top = max(by_rule.values(), default=0) or 1
    bars = [{"rule": rule, "count": n, "y": i * (bar + gap), "w": max(2, round((width - label_w - 50) * n / top)) if n else 0}
            for i, (rule, n) in enumerate(sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0])))]
    return {"bars": bars, "bar": bar, "label_w": label_w, "width": width, "height": max(1, len(bars)) * (bar + gap)}


def _trend(history: list[dict[str, Any]]) -> dict[str, Any]:
    """Open findings per run, as points of a line chart (with two runs or more)."""
    runs = [r for r in history if isinstance(r.get("open"), int)]
    width, height, left, top, bottom = 560, 160, 44, 12, 28
    if len(runs) < 2:
        return {"points": []}
    peak = max(r["open"] for r in runs) or 1
    step = (width - left - 12) / (len(runs) - 1)
    points = []
    for i, run in enumerate(runs):
        x = round(left + i * step, 1)
        y = round(top + (height - top - bottom) * (1 - run["open"] / peak), 1)
        points.append({"x": x, "y": y, "open": run["open"], "new": run.get("new", 0), "resolved": run.get("resolved", 0),
                       "started": run.get("started", ""), "id": run.get("id")})
    return {"points": points, "line": " ".join(f"{p['x']},{p['y']}" for p in points), "width": width, "height": height,
            "left": left, "base": height - bottom, "peak": peak, "top": top}


# ---------------------------------------------------------------------------------------------
# Rendering


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(_TEMPLATES)), autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda v: "—" if v is None else f"{v:.0%}"
    return env


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _assets(script_name: str) -> dict[str, str]:
    css = (_STATIC / "report.css").read_text(encoding="utf-8")
    js = (_STATIC / script_name).read_text(encoding="utf-8")
    csp = (f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    return {"css": css, "js": js, "csp": csp}


def render_pages(report: ReportInput, generated: str = "") -> dict[str, str]:
    """Every page of the report, by relative path (index.html, documents/*.html, report.json)."""
    env = _environment()
    ordered = report.ordered
    pages = {d.path: page_name(d.path) for d in ordered if d.findings}
    summary = {**summarize(ordered), **report.extra_summary}
    rows = _index_rows(report, pages)
    rule_info = {r.id: r for r in report.rules}
    common = {"version": __version__, "generated": generated, "severities": SEVERITIES, "rule_info": rule_info,
              "decisions": report.decisions, "finding_decisions": report.finding_decisions}
    out: dict[str, str] = {}
    out["index.html"] = env.get_template("index.html").render(
        **common, **_assets("index.js"), summary=summary, rows=rows, chart=_chart(summary["by_rule"]), trend=_trend(report.history),
        verdict=_verdict(report, rows), rules=sorted({f.rule for d in ordered for f in d.findings}),
        publishers=sorted({m.source.publisher for d in ordered for m in d.matches if m.source.publisher}),
        fail_on=report.fail_on.value if report.fail_on else "never",
    )
    document_template = env.get_template("document.html")
    assets = _assets("document.js")
    by_path = {d.path: d for d in ordered}
    queue = [r for r in rows if r["page"]]  # the pages in the index's order: [ and ] follow it
    for i, row in enumerate(queue):
        nav = {"queue": i + 1, "of": len(queue),
               "prev": queue[i - 1]["page"] if i > 0 else None, "next": queue[i + 1]["page"] if i + 1 < len(queue) else None}
        out[f"documents/{row['page']}"] = document_template.render(**common, **assets,
                                                                   **_document_view(by_path[row["path"]], report, nav))
    out["report.json"] = to_json(report)
    return out


def _run_name(report_dir: Path, now: dt.datetime) -> str:
    base = "run-" + now.strftime("%Y%m%dT%H%M%SZ")
    name, n = base, 1
    while (report_dir / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


# The folder a run is written in before it is renamed, and the next `latest` link: named by the
# writer's process, removed by a later run once that process is gone (`compliance.leftovers`).
_STAGING = re.compile(r"\.run-(?P<pid>\d+)-[a-z0-9_]+\.tmp")
_LINK_STAGING = re.compile(r"\.latest\.(?P<pid>\d+)\.tmp")
_STAGING_UNOWNED = re.compile(r"\.run-[a-z0-9_]+\.tmp")  # written by versions that named no process


def write_html_report(report: ReportInput, report_dir: Path, now: dt.datetime | None = None,
                      extra_files: dict[str, str] | None = None) -> Path:
    """Write the report folder atomically under `report_dir`; returns the new run folder.

    `extra_files` (name -> content) are the other formats asked for in the same scan.
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    latest = report_dir / "latest"
    if report_dir.exists() and not report_dir.is_dir():
        raise ComplianceError("--report-dir names a file, not a folder (refusing to replace it)", str(report_dir))
    if latest.exists() and not latest.is_symlink():
        raise ComplianceError("is not the link compliance keeps to the last run (refusing to replace it); move it away",
                              str(latest))
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ComplianceError(f"cannot create the report folder: {exc.strerror or exc}", str(report_dir)) from None
    pages = {**(extra_files or {}), **render_pages(report, now.strftime("%Y-%m-%d %H:%M:%S UTC"))}
    remove_leftovers(report_dir, _STAGING, _STAGING_UNOWNED)
    remove_leftovers(report_dir, _LINK_STAGING)
    staging = Path(tempfile.mkdtemp(prefix=f".run-{os.getpid()}-", suffix=".tmp", dir=report_dir))
    try:
        for relative, content in pages.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(content)
        os.chmod(staging, 0o755)
        final = report_dir / _run_name(report_dir, now)
        os.rename(staging, final)  # a fresh name: nothing is overwritten, the previous run stays
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    link_tmp = report_dir / f".latest.{os.getpid()}.tmp"
    link_tmp.unlink(missing_ok=True)
    os.symlink(final.name, link_tmp)
    os.replace(link_tmp, report_dir / "latest")  # swap the pointer in one step
    return final


# ---------------------------------------------------------------------------------------------
# Retention

_RUN_NAME = re.compile(r"run-(\d{8}T\d{6}Z)(?:-(\d+))?")


def _run_order(name: str) -> tuple[str, int] | None:
    """Sort key of a run folder's name (run-...Z-10 after run-...Z-2); None if not one of ours."""
    found = _RUN_NAME.fullmatch(name)
    return (found.group(1), int(found.group(2) or 1)) if found else None


def _remove_run(folder: Path) -> None:
    """index.html goes last: a run only half removed (a file it cannot delete) is still
    recognised as a run, and removed at the next try."""
    for child in os.scandir(folder):
        if child.name == "index.html":
            continue
        if child.is_dir(follow_symlinks=False):
            shutil.rmtree(child.path)
        else:
            os.unlink(child.path)
    os.unlink(folder / "index.html")
    os.rmdir(folder)


def prune_runs(report_dir: Path, keep: int) -> list[tuple[Path, str]]:
    """Remove the oldest run folders beyond the newest `keep` (0 keeps all); returns the ones
    that could not be removed, with why.

    Only what `write_html_report` makes is touched: a real folder named run-<timestamp>[-n]
    holding an index.html, and never the one `latest` points at. Other files and folders in
    `report_dir` (a user's notes, a copy renamed to keep it) stay.
    """
    if keep <= 0:
        return []
    try:
        latest = os.path.realpath(report_dir / "latest") if (report_dir / "latest").is_symlink() else None
        runs = []
        for entry in os.scandir(report_dir):
            order = _run_order(entry.name)
            if order and entry.is_dir(follow_symlinks=False) and os.path.isfile(os.path.join(entry.path, "index.html")):
                runs.append((order, Path(entry.path)))
    except OSError as exc:
        return [(report_dir, exc.strerror or str(exc))]
    runs.sort()
    failures = []
    for _, folder in runs[:-keep]:
        if latest is not None and os.path.realpath(folder) == latest:
            continue
        try:
            _remove_run(folder)
        except OSError as exc:
            failures.append((folder, exc.strerror or str(exc)))
    return failures

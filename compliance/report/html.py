"""The HTML report: a folder a reviewer can open in a browser and decide from.

`write_html_report` renders `index.html`, one page per document with findings under
`documents/`, and `report.json` (the JSON report) into a temporary sibling folder, then
renames it into place as `run-<UTC timestamp>` and points the `latest` symlink at it.
Earlier runs stay untouched until the new one is complete; then `prune_runs` removes the
oldest run folders beyond a count, and nothing else.

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
from compliance.model import Block, DocumentResult, Finding, Severity
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


def segments(text: str, ranges: Iterable[Range]) -> list[Segment]:
    """Cut `text` at every range boundary; each piece lists the ranges covering it."""
    ranges = [r for r in ranges if 0 <= r.start < r.end <= len(text)]
    cuts = sorted({0, len(text), *(r.start for r in ranges), *(r.end for r in ranges)})
    started: set[str] = set()
    out: list[Segment] = []
    for a, b in zip(cuts, cuts[1:]):
        covering = [r for r in ranges if r.start <= a and b <= r.end]
        if not covering:
            out.append(Segment(text[a:b]))
            continue
        segment = Segment(text[a:b], classes=sorted({cls for r in covering for cls in r.cls.split()}))
        # the innermost (shortest) range decides where a click goes
        primary = min(covering, key=lambda r: r.end - r.start)
        segment.target = primary.target
        segment.title = " / ".join(r.title for r in covering if r.title)
        # ids go on a range's first piece; when two ranges start together the shorter one gets
        # it and the other takes its next free piece
        for r in sorted(covering, key=lambda r: r.end - r.start):
            if r.id not in started and not segment.id:
                started.add(r.id)
                segment.id = r.id
                segment.target = r.target or segment.target
        out.append(segment)
    return out


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


def _source_views(result: DocumentResult, doc_ranges: list[Range]) -> list[dict[str, Any]]:
    """Each source the document copies, with its own colour: its spans, painted on the repost
    (added to `doc_ranges`) and on its text. The first source's ids are those of a report of one."""
    several = len(result.matches) > 1
    views = []
    for k, match in enumerate(result.matches, 1):
        colour = f"src-{(k - 1) % SOURCE_COLOURS + 1}"
        prefix = "" if k == 1 else f"s{k}-"
        src_ranges = []
        for n, span in enumerate(match.spans, 1):
            title = f"copied run {n}: {span.length} words, lines {span.line}–{span.end_line}"
            if several:
                title = f"{match.source.publisher}, {title}"
            doc_id, src_id = f"doc-{prefix}span-{n}", f"src-{prefix}span-{n}"
            doc_ranges.append(Range(*span.doc_chars, f"copy {colour}", doc_id, src_id, title))
            src_ranges.append(Range(*span.source_chars, f"copy {colour}", src_id, doc_id, title))
        source = match.source
        views.append({"match": match, "source": source, "colour": colour, "number": k,
                      "text_id": "src-text" if k == 1 else f"src-text-{k}",
                      "source_url": safe_url(source.url), "source_text": segments(source.text, src_ranges)})
    return views


def _document_view(result: DocumentResult) -> dict[str, Any]:
    document = result.document
    body = document.body if document else []
    body_text = "\n\n".join(b.text for b in body)
    offsets = _body_offsets(body)
    doc_ranges: list[Range] = []
    sources = _source_views(result, doc_ranges)

    findings = []
    dup = 0
    for f in result.findings:
        view: dict[str, Any] = {"finding": f, "diff": None, "dup_ids": []}
        ev = f.evidence or {}
        if "expected" in ev:
            view["diff"] = word_diff(str(ev.get("expected") or ""), str(ev.get("closest") or ""))
            view["similarity"] = ev.get("similarity")
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
    return {
        "result": result,
        "status": status(result),
        "counts": _severity_counts(result.findings),
        "findings": findings,
        "body": segments(body_text, doc_ranges),
        "has_body": bool(body_text),
        "sources": sources,
        "attributions": attributions,
    }


def _index_rows(report: ReportInput, pages: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for d in report.ordered:
        counts = _severity_counts(d.findings)
        rows.append({
            "path": d.path, "title": d.title, "page": pages.get(d.path),
            "source": d.match.source.id if d.match else "", "publisher": d.match.source.publisher if d.match else "",
            "more": [m.source for m in d.matches[1:]], "publishers": "\n".join(dict.fromkeys(m.source.publisher for m in d.matches)),
            "containment": d.match.containment if d.match else None, "coverage": d.match.coverage if d.match else None,
            "counts": counts, "total": sum(counts.values()),
            "suppressed": sum(1 for f in d.findings if not f.is_active),
            "status": status(d),
            "rules": " ".join(sorted({f.rule for f in d.findings})),
            "severities": " ".join(sorted({f.severity.value for f in d.findings if f.is_active})),
        })
    return rows


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
    common = {"version": __version__, "generated": generated, "severities": SEVERITIES, "rule_info": rule_info}
    out: dict[str, str] = {}
    out["index.html"] = env.get_template("index.html").render(
        **common, **_assets("index.js"), summary=summary, rows=rows, chart=_chart(summary["by_rule"]), trend=_trend(report.history),
        rules=sorted({f.rule for d in ordered for f in d.findings}),
        publishers=sorted({m.source.publisher for d in ordered for m in d.matches if m.source.publisher}),
        fail_on=report.fail_on.value if report.fail_on else "never",
    )
    document_template = env.get_template("document.html")
    assets = _assets("document.js")
    for d in ordered:
        if d.path in pages:
            out[f"documents/{pages[d.path]}"] = document_template.render(**common, **assets, **_document_view(d))
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

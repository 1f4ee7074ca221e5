#!/usr/bin/env python3
"""Accuracy of `compliance scan` on the generated development sets and the existing dev set.

One command: generate the sets (benchmarks/devsets.py; reused when the seed and the generator
are unchanged), scan each with this checkout's CLI (JSON report, no state), score every
report against its truth, print the tables and write docs/accuracy.md.

    python benchmarks/accuracy.py                 # all sets, writes docs/accuracy.md
    python benchmarks/accuracy.py -k roundups -n  # one set, print only

Scores (every document of a set counts, clean ones too):

- per rule: precision, recall and F1 at document level (a rule is expected or not, reported
  or not), over the five rule ids the dev set scores;
- primary: the share of documents whose report names the truth's primary source (or, for
  original writing, no source);
- source set: precision and recall over (document, source id) pairs, the truth's `sources`
  against the report's `sources` ids when the report has that field, else its one `source`;
  a dev-set document's truth set is its `source` (or nothing);
- attribution: precision, recall and F1 of the (document, rule) decisions of
  attribution-missing and attribution-mismatch pooled together (micro-averaged): a document
  that needs one and gets the other is one false negative and one false positive.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import devsets  # noqa: E402

ROOT = devsets.ROOT
RULES = ("disclaimer-missing", "attribution-missing", "attribution-mismatch", "caption-duplicated", "excerpt-limit")
ATTRIBUTION = ("attribution-missing", "attribution-mismatch")
DEV = devsets.SHARED / "eval" / "dev"
TARGET = 0.98
TARGET_SETS = ("roundups", "debris", "distractors")
EXAMPLES = 4


def rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        try:
            return "../" + str(path.resolve().relative_to(ROOT.parent))
        except ValueError:
            return str(path)


def norm_path(path: str) -> str:
    path = path.replace("\\", "/")
    return path.split("reposts/", 1)[1] if "reposts/" in path else path


# --------------------------------------------------------------------------- scanning

def scan(set_dir: Path, report: Path, jobs: int) -> float:
    cmd = [sys.executable, "-m", "compliance", "scan", str(set_dir / "reposts"), "--sources", str(set_dir / "sources"),
           "--no-state", "--format", "json", "--output", str(report), "--fail-on", "never", "--quiet", "--jobs", str(jobs)]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0 or not report.exists():
        raise SystemExit(f"scan of {set_dir} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def load_report(path: Path) -> tuple[dict[str, dict], bool]:
    """{path: {"primary", "sources", "rules"}}, and whether the report lists `sources`."""
    rep = json.loads(path.read_text(encoding="utf-8"))
    docs = rep["documents"] if isinstance(rep, dict) else rep
    out, multi = {}, False
    for d in docs:
        src = d.get("source")
        primary = src.get("id") if isinstance(src, dict) else src
        if isinstance(d.get("sources"), list):
            multi = True
            ids = [s.get("id") if isinstance(s, dict) else s for s in d["sources"]]
        else:
            ids = [primary] if primary else []
        out[norm_path(d["path"])] = {"primary": primary, "sources": [i for i in ids if i],
                                     "rules": {f.get("rule") for f in d.get("findings", [])} & set(RULES)}
    return out, multi


# --------------------------------------------------------------------------- scoring

def prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"p": p, "r": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "tp": tp, "fp": fp, "fn": fn}


def truth_sources(t: dict) -> list[str]:
    if "sources" in t:
        return list(t["sources"])
    return [t["source"]] if t.get("source") else []


def score(truth: dict[str, dict], got: dict[str, dict]) -> dict:
    empty = {"primary": None, "sources": [], "rules": set()}
    res: dict = {"documents": len(truth), "missing": sorted(p for p in truth if p not in got), "rules": {}}
    for rule in RULES:
        tp = fp = fn = 0
        for p, t in truth.items():
            want, have = rule in t["rules"], rule in got.get(p, empty)["rules"]
            tp += want and have
            fp += have and not want
            fn += want and not have
        res["rules"][rule] = prf(tp, fp, fn)
    res["macro_f1"] = sum(r["f1"] for r in res["rules"].values()) / len(RULES)
    a = [res["rules"][r] for r in ATTRIBUTION]
    res["attribution"] = prf(sum(x["tp"] for x in a), sum(x["fp"] for x in a), sum(x["fn"] for x in a))
    ok = tp = fp = fn = 0
    for p, t in truth.items():
        g = got.get(p, empty)
        ok += g["primary"] == t.get("source")
        want, have = set(truth_sources(t)), set(g["sources"])
        tp += len(want & have)
        fp += len(have - want)
        fn += len(want - have)
    res["primary"] = ok / len(truth) if truth else 1.0
    res["source_set"] = prf(tp, fp, fn)
    res["multi_source_documents"] = sum(len(truth_sources(t)) > 1 for t in truth.values())
    res["copies"] = sum(bool(truth_sources(t)) for t in truth.values())
    return res


def errors(truth: dict[str, dict], got: dict[str, dict]) -> dict[str, list[tuple[str, str, str]]]:
    """{error kind: [(path, case, detail)]}, the kinds ordered by how many documents they hit."""
    empty = {"primary": None, "sources": [], "rules": set()}
    out: dict[str, list] = defaultdict(list)
    for p, t in sorted(truth.items()):
        g = got.get(p, empty)
        want, have = set(truth_sources(t)), set(g["sources"])
        if g["primary"] != t.get("source"):
            kind = "no source found" if g["primary"] is None else ("a source found in original writing" if t.get("source") is None else "wrong primary source")
            out[kind].append((p, t["case"], f"want {t.get('source')}, got {g['primary']}"))
        if want - have and g["primary"] is not None and g["primary"] == t.get("source"):
            out["copied source missing from the set"].append((p, t["case"], f"missing {sorted(want - have)}"))
        if have - want and not (g["primary"] != t.get("source") and have == {g["primary"]}):
            out["source set holds a source not copied"].append((p, t["case"], f"extra {sorted(have - want)}"))
        for rule in RULES:
            if (rule in t["rules"]) != (rule in g["rules"]):
                kind = f"{'FN' if rule in t['rules'] else 'FP'} {rule}"
                out[kind].append((p, t["case"], f"want {sorted(t['rules']) or 'nothing'}, got {sorted(g['rules']) or 'nothing'}"))
    return dict(sorted(out.items(), key=lambda kv: (-len(kv[1]), kv[0])))


def facets(kind: str, truth: dict[str, dict], got: dict[str, dict]) -> list[tuple[str, str, int, float, float, float]]:
    """Per facet value: (facet, value, documents, source set exact, attribution exact, all rules exact)."""
    empty = {"primary": None, "sources": [], "rules": set()}
    names = list(devsets.FACETS.get(kind, ())) + ["format"]
    cells: dict[tuple[str, str], list[tuple[bool, bool, bool]]] = defaultdict(list)
    for p, t in truth.items():
        g = got.get(p, empty)
        parts = t["case"].split("-")[1:]
        values = parts[: len(names) - 1] + [p.rsplit(".", 1)[-1]]
        src_ok = set(truth_sources(t)) == set(g["sources"]) and g["primary"] == t.get("source")
        attr_ok = {r for r in t["rules"] if r in ATTRIBUTION} == {r for r in g["rules"] if r in ATTRIBUTION}
        all_ok = set(t["rules"]) == g["rules"]
        for name, value in zip(names, values):
            cells[(name, value)].append((src_ok, attr_ok, all_ok))
    rows = []
    for (name, value), v in sorted(cells.items(), key=lambda kv: (names.index(kv[0][0]), kv[0][1])):
        n = len(v)
        rows.append((name, value, n, sum(x[0] for x in v) / n, sum(x[1] for x in v) / n, sum(x[2] for x in v) / n))
    return rows


# --------------------------------------------------------------------------- output

def table(res: dict, multi: bool) -> list[str]:
    lines = ["| measure | precision | recall | F1 | tp | fp | fn |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for rule, r in res["rules"].items():
        lines.append(f"| {rule} | {r['p']:.3f} | {r['r']:.3f} | {r['f1']:.3f} | {r['tp']} | {r['fp']} | {r['fn']} |")
    a, s = res["attribution"], res["source_set"]
    lines.append(f"| **attribution** (missing + mismatch) | {a['p']:.3f} | {a['r']:.3f} | **{a['f1']:.3f}** | {a['tp']} | {a['fp']} | {a['fn']} |")
    lines.append(f"| **source set** ({'`sources`' if multi else '`source` only'}) | **{s['p']:.3f}** | **{s['r']:.3f}** | {s['f1']:.3f} | {s['tp']} | {s['fp']} | {s['fn']} |")
    lines.append(f"| primary source accuracy | | | {res['primary']:.3f} | | | |")
    lines.append(f"| macro-F1 (5 rules) | | | {res['macro_f1']:.3f} | | | |")
    return lines


def render_doc(results: list[dict], meta: dict) -> str:
    out = [
        "# Accuracy",
        "",
        "How well `compliance scan` finds what reposts copy and which rules they break, on labelled",
        "sets. Generated by [`benchmarks/accuracy.py`](../benchmarks/accuracy.py), which writes this page;",
        "the sets come from [`benchmarks/devsets.py`](../benchmarks/devsets.py) (its docstring says how",
        "each kind of repost is made and what the truth expects). Do not edit the numbers by hand: rerun",
        "",
        "```sh",
        meta["command"],
        "```",
        "",
        f"- date: {meta['date']}",
        f"- version: `{meta['version']}`, commit `{meta['commit']}`{' (with uncommitted changes)' if meta['dirty'] else ''}",
        f"- sets: seed {meta['seed']}, generator `{meta['generator']}`, in `{meta['out']}` (not committed; the command",
        "  writes them again, byte for byte)",
        f"- each set scanned as `python -m compliance scan SET/reposts --sources SET/sources --no-state --format json --output SET/report.json --fail-on never --quiet --jobs {meta['jobs']}`",
        "",
        "## What is measured",
        "",
        "- **per rule**: precision, recall and F1 at document level, over the five rule ids of the",
        "  dev set (`disclaimer-missing`, `attribution-missing`, `attribution-mismatch`,",
        "  `caption-duplicated`, `excerpt-limit`); other rule ids are ignored;",
        "- **attribution**: `attribution-missing` and `attribution-mismatch` pooled (micro-averaged",
        "  over the (document, rule) decisions of both): a document that needs one and gets the other",
        "  counts one false negative and one false positive;",
        "- **source set**: precision and recall over (document, source id) pairs: the truth's `sources`",
        "  (every source the repost copies) against the report's `sources` when it has that field, else",
        "  its one `source`. A report that names one source per document can at best reach the",
        "  share of copied sources that are primaries;",
        "- **primary source accuracy**: the share of documents whose report names the truth's primary",
        "  (the most copied source), or no source for original writing.",
        "",
        "What the truth expects, for the set S of copied sources and the publishers the desk's credit",
        "lines name: `attribution-mismatch` when a credited publisher is none of S's; `attribution-missing`",
        "when a source of S is not credited, unless every credit names someone else (then the mismatch",
        "alone, as the dev set's `wrong_attrib` cases); `excerpt-limit` when any source of S is copied",
        "beyond its own licence. Credits are Source:/Credit: lines, \"Originally published by X\",",
        "`source:` front matter, bylines (\"By X, Associated Press\"), datelines (\"WASHINGTON (AP) —\")",
        "and copyright lines; date lines (\"Originally published July 15, 2018 at 3:56 am\") and",
        "bylines naming only a person credit nobody. The catalogues give no `aliases`: \"(AP)\" has to",
        "be known to mean the Associated Press.",
        "",
        "## Targets",
        "",
    ]
    by_name = {r["name"]: r for r in results}
    target = [by_name[n] for n in TARGET_SETS if n in by_name]
    if target:
        pooled = pool([r["res"] for r in target])
        out += [
            f"On roundups, debris-wrapped partial copies and same-event distractors together ({pooled['documents']} reposts), the",
            f"target is source-set precision and recall and attribution F1 of at least {TARGET}:",
            "",
            "| measure | now | target |",
            "| --- | ---: | ---: |",
            f"| source-set precision | {pooled['source_set']['p']:.3f} | {TARGET} |",
            f"| source-set recall | {pooled['source_set']['r']:.3f} | {TARGET} |",
            f"| attribution F1 | {pooled['attribution']['f1']:.3f} | {TARGET} |",
            "",
        ]
    if "dev" in by_name:
        d = by_name["dev"]["res"]
        out += [f"The existing dev set must not drop: today macro-F1 {d['macro_f1']:.3f}, primary source accuracy "
                f"{d['primary']:.3f}, attribution F1 {d['attribution']['f1']:.3f}.", "",
                "Its truth and the checker disagree on purpose on one kind of repost: a copy of an Associated Press "
                "story, catalogued under the AP's own site, whose only credit is the story's own dateline "
                "(\"LONDON (AP) —\"). Real wire copies are credited exactly so, and the checker counts a dateline "
                "naming the publisher as a credit (docs/rules.md); the dev truth, labelled before that rule, wants "
                "`attribution-missing`. A desk that wants an explicit line sets `credit_forms` on the rule. These "
                "are the dev set's attribution-missing false negatives below, when there are any.", ""]
    out += ["## Sets", "", "| set | reposts | copies | copying 2+ sources | sources in catalogue | scan time |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        out.append(f"| {r['name']} | {r['res']['documents']} | {r['res']['copies']} | {r['res']['multi_source_documents']} "
                   f"| {r['catalogue']} | {r['seconds']:.1f} s |")
    out.append("")
    for r in results:
        out += [f"## {r['name']}", "", r["about"], "", *table(r["res"], r["multi"]), ""]
        if r["res"]["missing"]:
            out += [f"{len(r['res']['missing'])} reposts are missing from the report.", ""]
        if r["facets"]:
            out += ["By kind of repost (share of its reposts with the source set and primary right, the attribution",
                    "findings right, all five rules right):", "",
                    "| facet | value | reposts | sources right | attribution right | all rules right |",
                    "| --- | --- | ---: | ---: | ---: | ---: |"]
            out += [f"| {f} | {v} | {n} | {a:.2f} | {b:.2f} | {c:.2f} |" for f, v, n, a, b, c in r["facets"]]
            out.append("")
        if r["errors"]:
            out += ["What goes wrong (documents; the commonest cases; examples, paths under the set's `reposts/`):", ""]
            for kind, items in r["errors"].items():
                cases = Counter(case for _, case, _ in items).most_common(3)
                out.append(f"- **{kind}**: {len(items)} ({', '.join(f'`{c}` {n}' for c, n in cases)})")
                for path, case, detail in items[:EXAMPLES]:
                    out.append(f"  - `{path}`: {detail}")
            out.append("")
    return "\n".join(out)


def pool(results: list[dict]) -> dict:
    def add(key: str) -> dict:
        return prf(*(sum(r[key][k] for r in results) for k in ("tp", "fp", "fn")))
    return {"documents": sum(r["documents"] for r in results), "source_set": add("source_set"), "attribution": add("attribution")}


ABOUT = {
    "dev": "The existing development set (`../shared/eval/dev`): one source per repost, edits, wrong and missing credits, "
           "licences, disclaimers, duplicated captions. Its truth has no `sources`: a repost's set is its `source`.",
    "roundups": "Paragraphs of 2 or 3 articles by different publishers one after another, credited all, some or none, "
                "sometimes someone else too. The primary (most copied) source has at least 1.3 times the words of any other.",
    "debris": "A cut-short copy (120-200 words) of one article wrapped in real site chrome diffed out of real publisher pages, "
              "in .txt, .md and .html; some catalogue copies wrapped in their own page's chrome; credited by a byline, a dateline, "
              "a copyright line, a Source: line, someone else, or nothing.",
    "distractors": "Original writing (articles kept out of the catalogue) quoting 2 or 3 passages of 10-30 words of a catalogue "
                   "article on a similar subject, and real same-event articles sharing quotes with one: no source, no attribution finding.",
    "datelines": "Copies carrying a date line that credits nobody (\"Originally published July 15, 2018 at 3:56 am\"), credited "
                 "by a Source: line, \"Originally published by X\", front matter, or the date line itself (\"Originally published by X "
                 "on ...\"); uncredited and miscredited controls.",
    "wirecredits": "Copies credited only by a byline, a dateline or a copyright line, wire stories (AP, Reuters, CNN) and others; "
                   "controls: a byline naming only a person, no credit, a byline of another wire.",
}


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", type=Path, default=ROOT / "build" / "devsets", help="where the sets and reports go")
    ap.add_argument("-s", "--seed", type=int, default=1)
    ap.add_argument("-k", "--kind", action="append", choices=("dev", *devsets.KINDS), help="a set to score (default: all, and dev)")
    ap.add_argument("-r", "--regenerate", action="store_true", help="write the sets even when they look current")
    ap.add_argument("-n", "--no-doc", action="store_true", help="print only; leave docs/accuracy.md alone")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="worker processes per scan (default 1)")
    ap.add_argument("--doc", type=Path, default=ROOT / "docs" / "accuracy.md")
    a = ap.parse_args(argv)
    names = a.kind or ["dev", *devsets.KINDS]
    kinds = tuple(k for k in devsets.KINDS if k in names)
    generator = devsets.generator_hash()
    manifest_path = a.out / "manifest.json"
    made = json.loads(manifest_path.read_text(encoding="utf-8")).get("sets", {}) if manifest_path.exists() else {}
    stale = tuple(k for k in kinds if a.regenerate or made.get(k, {}).get("seed") != a.seed
                  or made[k].get("generator") != generator or not (a.out / k / "truth.json").exists())
    if stale:
        print(f"generating {', '.join(stale)} into {rel(a.out)} ...", file=sys.stderr)
        devsets.generate(a.out, a.seed, stale)
    results = []
    for name in names:
        set_dir = DEV if name == "dev" else a.out / name
        report = a.out / "reports" / f"{name}.json"
        report.parent.mkdir(parents=True, exist_ok=True)
        seconds = scan(set_dir, report, a.jobs)
        truth = json.loads((set_dir / "truth.json").read_text(encoding="utf-8"))
        got, multi = load_report(report)
        res = score(truth, got)
        results.append({"name": name, "res": res, "multi": multi, "seconds": seconds, "about": ABOUT[name],
                        "catalogue": len(list((set_dir / "sources").glob("*.md"))),
                        "facets": facets(name, truth, got) if name != "dev" else [], "errors": errors(truth, got)})
        s, at = res["source_set"], res["attribution"]
        print(f"{name:12s} docs={res['documents']:4d} primary={res['primary']:.3f} set P={s['p']:.3f} R={s['r']:.3f} "
              f"attribution F1={at['f1']:.3f} macro-F1={res['macro_f1']:.3f} ({seconds:.1f} s)")
    version = subprocess.run([sys.executable, "-m", "compliance", "--version"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    meta = {"date": dt.date.today().isoformat(), "version": version, "commit": git("rev-parse", "--short", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no", "--", ".", f":!{rel(a.doc)}")), "seed": a.seed, "generator": generator,
            "out": rel(a.out), "jobs": a.jobs,
            "command": "python benchmarks/accuracy.py" + (f" -s {a.seed}" if a.seed != 1 else "")}
    if not a.no_doc:
        a.doc.write_text(render_doc(results, meta) + "\n", encoding="utf-8")
        print(f"wrote {rel(a.doc)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

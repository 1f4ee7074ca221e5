"""Screenshots of the HTML report for docs/img/: `python tools/screenshots.py [DEV_SET] [OUT_DIR]`.

Scans the development set (/work/shared/eval/dev by default), and a roundup of three real
articles of tests/data/corpus.jsonl, into a report, then photographs, in
headless Chromium (Playwright, /usr/bin/chromium), the index and the document page with the
most sources (the most passages among equals), at desktop (1280 px) and phone (390 px) widths.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from compliance.cli.main import main
from compliance.report.html import page_name

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


ROOT = Path(__file__).parent.parent
CORPUS = ROOT / "tests" / "data" / "corpus.jsonl"  # real articles, always in the checkout
ROUNDUP = [("sh-156770d676ce", slice(0, 6)), ("sh-51374560f400", slice(4, 8)), ("sh-42aad16bde92", slice(0, 5))]
INTROS = ["Here is what happened overnight.", "Also making news this morning:", "And finally, from elsewhere:"]


def roundup_text() -> str:
    """A roundup of three articles of tests/data/corpus.jsonl (The Hill, Fox Business, Al
    Jazeera), each section opened by a line of the desk's own, as tests/test_real_world_copies.py makes them."""
    articles = {r["id"]: r for r in map(json.loads, CORPUS.read_text(encoding="utf-8").splitlines())}
    body = []
    for intro, (article, which) in zip(INTROS, ROUNDUP):
        body.append(intro)
        body += [p.strip() for p in articles[article]["text"].split("\n") if p.strip()][which]
    return "Morning roundup: meth, Home Depot and the Moon\n\n" + "\n\n".join(body) + "\n"


def scan(dev: Path, work: Path) -> Path:
    """The dev set's report, scanned twice with state: the second time with a roundup added,
    whose findings the index marks as new since the last run."""
    shutil.copytree(dev / "reposts", work / "reposts")
    # the articles of the corpus the dev set's catalogue lacks (a source id may be used once)
    known = {p.stem for p in (dev / "sources").iterdir()}
    extra = [line for line in CORPUS.read_text(encoding="utf-8").splitlines() if json.loads(line)["id"] not in known]
    (work / "more-sources.jsonl").write_text("\n".join(extra) + "\n", encoding="utf-8")
    previous = Path.cwd()
    os.chdir(work)
    try:
        for run in (1, 2):
            if run == 2:
                (work / "reposts" / "roundups").mkdir()
                (work / "reposts" / "roundups" / "morning-roundup.txt").write_text(roundup_text(), encoding="utf-8")
            main(["scan", "reposts", "--sources", str(dev / "sources"), "--sources", str(work / "more-sources.jsonl"), "--format", "html",
                  "--format", "json", "--report-dir", str(work / "reports"), "--state", str(work / "state.db"), "-q"])
    finally:
        os.chdir(previous)
    return (work / "reports" / "latest").resolve()


def richest(report: Path) -> str:
    """The path of the document with the most sources, then the most copied passages."""
    data = json.loads((report / "report.json").read_text(encoding="utf-8"))
    with_pages = [d for d in data["documents"] if d["findings"]]
    best = max(with_pages, key=lambda d: (len(d.get("sources") or []), sum(len(s["spans"]) for s in d.get("sources") or [])))
    return best["path"]


def shoot(report: Path, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    document = report / "documents" / page_name(richest(report))
    shots = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for name, (width, height) in WIDTHS.items():
            page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
            page.goto((report / "index.html").as_uri())
            shots.append(out / f"index-{name}.png")
            page.screenshot(path=str(shots[-1]))
            page.goto(document.as_uri())
            if name == "desktop":  # the evidence: a passage clicked, both panes aligned on it
                page.click("#passage-2" if page.locator("#passage-2").count() else "#passage-1")
            shots.append(out / f"document-{name}.png")
            page.screenshot(path=str(shots[-1]))
            if name == "desktop":
                shots.append(out / "document-top-desktop.png")
                page.evaluate("window.scrollTo(0, 0)")
                page.screenshot(path=str(shots[-1]))
            page.close()
        browser.close()
    return shots


if __name__ == "__main__":
    dev = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/eval/dev").resolve()
    out = Path(sys.argv[2] if len(sys.argv) > 2 else Path(__file__).parent.parent / "docs" / "img").resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        report = scan(dev, Path(tmp))
        for shot in shoot(report, out):
            print(shot)

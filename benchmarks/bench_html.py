"""Time the HTML report on a synthetic scan of 10,000 documents: `python benchmarks/bench_html.py [N]`."""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from compliance.model import Block, BlockKind, Document, DocumentResult, Finding, Match, Severity, Source, Span
from compliance.report.context import ReportInput
from compliance.report.html import write_html_report


def synthetic(n: int) -> ReportInput:
    text = " ".join(f"word{i}" for i in range(400))
    documents = []
    for i in range(n):
        source = Source(id=f"src-{i % 50}", publisher=f"Publisher {i % 7}", text=text, url="https://example.com/a")
        blocks = [Block(BlockKind.TITLE, f"Title {i}", 1, 1), Block(BlockKind.PARAGRAPH, text, 3, 3)]
        document = Document(path=f"reposts/{i:05d}.txt", format="txt", title=f"Title {i}", blocks=blocks)
        match = Match(source, 0.9, 0.8, 360, [Span(0, 360, 0, 360, 3, 3, (0, 3000), (0, 3000))]) if i % 3 else None
        findings = [Finding("attribution-missing", Severity.ERROR, "no credit", 3)] if i % 4 == 0 and match else []
        documents.append(DocumentResult(document.path, "txt", document.title, match, findings, document))
    return ReportInput(documents)


def browser_load_seconds(index: Path) -> float | None:
    """Time for headless Chromium to load the index and run its script (None without a browser)."""
    chromium = Path("/usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not chromium.exists():
        return None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page()
        started = time.perf_counter()
        page.goto(index.as_uri(), wait_until="load")
        page.wait_for_function("document.querySelectorAll('tbody tr').length > 0")
        elapsed = time.perf_counter() - started
        browser.close()
    return elapsed


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    report = synthetic(count)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        folder = write_html_report(report, Path(tmp))
        elapsed = time.perf_counter() - started
        pages = len(list((folder / "documents").iterdir()))
        size = (folder / "index.html").stat().st_size
        opened = browser_load_seconds(folder / "index.html")
    print(f"{count} documents, {pages} document pages, index {size / 1e6:.1f} MB: rendered in {elapsed:.2f} s")
    print(f"index opened in headless Chromium in {opened:.2f} s" if opened is not None else "no chromium/playwright: browser load not measured")

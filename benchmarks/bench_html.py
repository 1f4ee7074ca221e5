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


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    report = synthetic(count)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        folder = write_html_report(report, Path(tmp))
        elapsed = time.perf_counter() - started
        pages = len(list((folder / "documents").iterdir()))
        size = (folder / "index.html").stat().st_size
    print(f"{count} documents, {pages} document pages, index {size / 1e6:.1f} MB: {elapsed:.2f} s")

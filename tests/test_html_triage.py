"""The HTML report as a reviewer's triage tool: the queue, the evidence of a roundup of real
articles, keyboard navigation, the hooks the review server relies on, and decisions shown.

Inputs are real articles of tests/data/corpus.jsonl (always in the checkout); the browser
tests run in Chromium as those of test_html_report.py do, with its `browser` fixture.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
from pathlib import Path

import pytest
from conftest import DATA, DISCLAIMER, paragraphs
from test_html_report import PAYLOAD, _open, browser  # noqa: F401 - `browser` is a fixture

from compliance.cli.main import main
from compliance.report.context import ReportInput
from compliance.report.html import page_name, render_pages

HILL, FOX, NASA, VB = "sh-156770d676ce", "sh-51374560f400", "sh-42aad16bde92", "sh-06e5123e4ef7"
INTROS = ["Here is what happened overnight.", "Also making news this morning:", "And finally, from elsewhere:"]
ROUNDUP = [(HILL, slice(0, 6)), (FOX, slice(4, 8)), (NASA, slice(0, 5))]


def _articles() -> dict[str, dict]:
    return {r["id"]: r for r in map(json.loads, (DATA / "corpus.jsonl").read_text(encoding="utf-8").splitlines())}


def _write(path: Path, title: str, body: list[str]) -> None:
    path.write_text(f"{title}\n\n" + "\n\n".join(body) + "\n", encoding="utf-8")


def _scan(root: Path, reports: str = "reports", state: tuple[str, ...] = ("--state", "state.db")) -> int:
    previous = Path.cwd()
    os.chdir(root)
    try:
        return main(["scan", "reposts", "--sources", str(root / "sources.jsonl"), "--format", "html", "--format", "json",
                     "--report-dir", str(root / reports), *state, "-q"])
    finally:
        os.chdir(previous)


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> Path:
    """Three reposts of real articles scanned once, then a roundup of three more added and
    scanned again: the roundup's findings are new since the last run.

    - credited.txt: VentureBeat's story whole, credited, with the disclaimer: clean;
    - warned.txt: the same, one paragraph pasted twice: a warning only;
    - plain.txt: The Hill's story, uncredited: errors;
    - roundup.txt: The Hill, Fox Business (licensed for excerpts of 30%) and Al Jazeera, uncredited.
    """
    root = tmp_path_factory.mktemp("desk")
    articles = _articles()
    lines = []
    for record in articles.values():
        if record["id"] == FOX:
            record = {**record, "license": "excerpt", "max_excerpt": 0.3}
        lines.append(json.dumps(record))
    (root / "sources.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    reposts = root / "reposts"
    reposts.mkdir()
    vb = paragraphs(articles[VB])
    _write(reposts / "credited.txt", articles[VB]["title"], vb + ["Source: VentureBeat", DISCLAIMER])
    _write(reposts / "warned.txt", articles[VB]["title"], vb[:3] + [vb[2]] + vb[3:] + ["Source: VentureBeat", DISCLAIMER])
    _write(reposts / "plain.txt", articles[HILL]["title"], paragraphs(articles[HILL]) + [DISCLAIMER])
    assert _scan(root) == 1
    body = []
    for intro, (article, which) in zip(INTROS, ROUNDUP):
        body += [intro, *paragraphs(articles[article])[which]]
    _write(reposts / "roundup.txt", "Morning roundup", body)
    assert _scan(root) == 1
    return root


def _report(desk: Path) -> Path:
    return (desk / "reports" / "latest").resolve()


def _json(desk: Path) -> dict:
    return json.loads((_report(desk) / "report.json").read_text(encoding="utf-8"))


def _roundup_page(desk: Path) -> Path:
    return _report(desk) / "documents" / page_name("reposts/roundup.txt")


def _findings(desk: Path, path: str) -> list[dict]:
    return next(d for d in _json(desk)["documents"] if d["path"] == path)["findings"]


# ---------------------------------------------------------------------------------------------
# The queue


def test_the_queue_lists_what_needs_a_decision_first_most_severe_first(browser, desk: Path):  # noqa: F811
    assert {f["severity"] for f in _findings(desk, "reposts/warned.txt")} == {"warning"}
    assert _findings(desk, "reposts/credited.txt") == []
    page, errors = _open(browser, _report(desk) / "index.html")
    order = page.eval_on_selector_all("#docs tbody tr", "rows => rows.map(r => [r.dataset.docPath, r.dataset.group])")
    paths = [path for path, _ in order]
    # the two with errors (the roundup has more of them), then the one with a warning, then the clean one
    assert paths == ["reposts/roundup.txt", "reposts/plain.txt", "reposts/warned.txt", "reposts/credited.txt"]
    assert [group.split()[0] for _, group in order] == ["decide", "decide", "decide", "clean"]
    verdict = page.inner_text("#verdict")
    assert verdict.startswith("Gate fails") and "3 documents need a decision (2 with errors, 1 with warnings)" in verdict
    assert "1 with findings new since the last run" in verdict
    # each row names its rules; only the roundup's findings are new
    first = page.locator("#docs tbody tr").first
    assert {"attribution-missing", "excerpt-limit", "disclaimer-missing"} <= set(first.locator("code.rule").all_inner_texts())
    assert page.locator("#docs tbody tr .new").count() == 1 and first.locator(".new").count() == 1
    page.select_option("#f-group", "new")
    assert page.eval_on_selector_all("#docs tbody tr:not([hidden])", "r => r.map(x => x.dataset.docPath)") == ["reposts/roundup.txt"]
    page.select_option("#f-group", "decide")
    assert "Showing 3 of 4" in page.inner_text("#shown")
    page.focus("body")
    for _ in range(3):
        page.keyboard.press("j")
    page.keyboard.press("k")  # j/k walk the rows in the queue's order
    assert page.evaluate("document.activeElement.closest('tr').dataset.docPath") == "reposts/plain.txt"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(page_name("reposts/plain.txt")) + "$"))
    assert errors == []
    page.close()


def test_the_index_fits_a_phone_without_scrolling_sideways(browser, desk: Path):  # noqa: F811
    page, errors = _open(browser, _report(desk) / "index.html", width=390)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate("document.getElementById('docs').scrollWidth") <= page.evaluate(
        "document.getElementById('docs').clientWidth")
    for cell in ("td.c-status", "td.c-error", "td.c-warning", "td.c-info", "td.c-containment"):
        box = page.locator(f"#docs tbody tr >> nth=0 >> {cell}").bounding_box()
        assert box["width"] > 0 and box["x"] + box["width"] <= 390, cell
    assert errors == []
    page.close()


# ---------------------------------------------------------------------------------------------
# A roundup's evidence


def test_a_roundup_page_gives_each_source_a_headline_a_colour_and_its_passages(browser, desk: Path):  # noqa: F811
    data = next(d for d in _json(desk)["documents"] if d["path"] == "reposts/roundup.txt")
    assert [s["id"] for s in data["sources"]] == [NASA, HILL, FOX]  # the one copied most first
    page, errors = _open(browser, _roundup_page(desk))
    headlines = page.locator(".headline").all_inner_texts()
    assert len(headlines) == 3
    for text, source in zip(headlines, data["sources"]):
        assert f"{source['containment']:.0%}" in text and source["title"] in text and source["publisher"] in text
    colour = "el => getComputedStyle(el).backgroundColor"
    marks = ["#doc-span-1", "#doc-s2-span-1", "#doc-s3-span-1"]
    colours = [page.eval_on_selector(m, colour) for m in marks]
    assert len(set(colours)) == 3
    # the same colour on the source's side
    assert [page.eval_on_selector(m.replace("doc-", "src-"), colour) for m in marks] == colours
    passages = page.locator("button.passage")
    spans = sorted((span["document_chars"][0], span) for s in data["sources"] for span in s["spans"])
    assert passages.count() == len(spans) >= 3
    for i, (_, span) in enumerate(spans):
        text = passages.nth(i).inner_text()
        assert text.startswith(str(i + 1)) and f"{span['words']} words" in text and f"{span['line']}" in text
    assert errors == []
    page.close()


def _in_view(page, selector: str) -> bool:
    """Whether the element shows, both within its scrolling pane and within the window."""
    return page.eval_on_selector(selector, """el => {
        const r = el.getBoundingClientRect(), box = el.closest('.text').getBoundingClientRect();
        return el.offsetParent !== null && r.top >= box.top - 1 && r.top < box.bottom && r.top >= 0 && r.top < innerHeight;
    }""")


def test_clicking_a_passage_brings_it_into_view_in_both_panes(browser, desk: Path):  # noqa: F811
    page, errors = _open(browser, _roundup_page(desk), width=1280)
    buttons = page.locator("button.passage")
    for i in reversed(range(buttons.count())):  # from the last: each click has to scroll
        button = buttons.nth(i)
        doc, src = button.get_attribute("data-doc"), button.get_attribute("data-src")
        button.click()
        assert _in_view(page, f"#{doc}") and _in_view(page, f"#{src}"), (doc, src)
        tab = page.locator(f"#tab-{button.get_attribute('data-source')}")
        assert tab.get_attribute("aria-selected") == "true"
    # the missing disclaimer's closest line, from its finding
    link = page.locator("a.goto-line").first
    line = link.get_attribute("data-line")
    page.evaluate("document.getElementById('doc-text').scrollTop = document.getElementById('doc-text').scrollHeight")
    link.click()
    assert _in_view(page, f'#doc-text .row[data-line="{line}"]')
    assert errors == []
    page.close()


def test_the_panes_scroll_together_only_when_asked(browser, desk: Path):  # noqa: F811
    page, errors = _open(browser, _roundup_page(desk), width=1280, )
    page.set_viewport_size({"width": 1280, "height": 600})
    page.click("#tab-2")  # The Hill, copied at the top of the roundup
    page.evaluate("document.getElementById('src-text-2').scrollTop = 0")
    page.evaluate("document.getElementById('doc-text').scrollTop = 400")
    page.wait_for_timeout(150)
    followed = page.evaluate("document.getElementById('src-text-2').scrollTop")
    assert followed > 0
    page.uncheck("#sync")
    page.evaluate("document.getElementById('doc-text').scrollTop = 0")
    page.wait_for_timeout(150)
    assert page.evaluate("document.getElementById('src-text-2').scrollTop") == followed
    assert errors == []
    page.close()


def test_quoted_speech_can_be_left_unhighlighted(browser, desk: Path):  # noqa: F811
    page, errors = _open(browser, _roundup_page(desk))
    quoted = page.locator("#doc-text mark.copy.quote").first
    colour = "el => getComputedStyle(el).backgroundColor"
    before = quoted.evaluate(colour)
    page.check("#hide-quotes")
    assert before != "rgba(0, 0, 0, 0)" and quoted.evaluate(colour) == "rgba(0, 0, 0, 0)"
    assert quoted.inner_text().lstrip()[0] in "\"“"
    assert errors == []
    page.close()


def test_line_numbers_are_the_files(desk: Path):
    page = _roundup_page(desk).read_text(encoding="utf-8")
    lines = (desk / "reposts" / "roundup.txt").read_text(encoding="utf-8").split("\n")
    numbered = re.findall(r'<div class="row" data-line="(\d+)">', page.split('id="doc-text"')[1].split("</article>")[0])
    assert numbered and all(lines[int(n) - 1].strip() for n in numbered)
    assert len(numbered) == sum(1 for line in lines[2:] if line.strip())  # every line of the body, once


def test_messages_name_sources_and_say_what_must_go(desk: Path):
    findings = _findings(desk, "reposts/roundup.txt")
    over = next(f for f in findings if f["rule"] == "excerpt-limit")
    fox = _articles()[FOX]
    copied = sum(len(p.split()) for p in paragraphs(fox)[4:8])
    expected = copied - math.floor(0.3 * len(fox["text"].split()))
    words = int(re.search(r"(\d+) words over the licence", over["message"]).group(1))
    assert abs(words - expected) <= 5 and over["evidence"]["words_over"] == words
    assert fox["title"] in over["message"] and FOX not in over["message"]
    missing = next(f for f in findings if f["rule"] == "disclaimer-missing")
    found = re.search(r"is missing; the closest text, at line (\d+), is (\d+)% alike", missing["message"])
    assert found and missing["evidence"]["nearest_line"] == int(found.group(1))
    page = _roundup_page(desk).read_text(encoding="utf-8")
    assert "0.0% alike" not in page and "<del>" not in page
    assert f'class="goto-line" data-line="{found.group(1)}"' in page
    # a message naming a source by id shows its title, the id in a tooltip
    assert f'title="source id: {HILL}">“{_articles()[HILL]["title"]}”' in page.replace("&#39;", "'")


# ---------------------------------------------------------------------------------------------
# Keyboard


def test_keys_step_through_findings_and_documents(browser, desk: Path):  # noqa: F811
    page, errors = _open(browser, _roundup_page(desk))
    focused = "document.activeElement.id"
    page.keyboard.press("j")
    assert page.evaluate(focused) == "finding-1"
    page.keyboard.press("j")
    page.keyboard.press("n")
    assert page.evaluate(focused) == "finding-3"
    page.keyboard.press("k")
    assert page.evaluate(focused) == "finding-2"
    page.keyboard.press("p")
    page.keyboard.press("p")
    assert page.evaluate(focused) == "finding-1"
    page.keyboard.press("?")
    assert page.evaluate("document.getElementById('help').open")
    page.keyboard.press("Escape")
    nxt = page.get_attribute("body", "data-next")
    assert nxt == page_name("reposts/plain.txt")  # the queue's next document
    page.keyboard.press("]")
    page.wait_for_url(re.compile(re.escape(nxt) + "$"))
    assert page.get_attribute("body", "data-doc-path") == "reposts/plain.txt"
    page.keyboard.press("Shift+J")
    page.wait_for_url(re.compile(re.escape(page_name("reposts/warned.txt")) + "$"))
    page.keyboard.press("[")
    page.wait_for_url(re.compile(re.escape(page_name("reposts/plain.txt")) + "$"))
    assert errors == []
    page.close()


# ---------------------------------------------------------------------------------------------
# Hooks for the review server, and decisions


def test_pages_carry_the_hooks_of_the_review_server(desk: Path, tmp_path: Path):
    report = _report(desk)
    index = (report / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr data-doc-path="([^"]+)"', index)
    assert sorted(rows) == sorted(d["path"] for d in _json(desk)["documents"])
    assert len(re.findall(r'<div class="decision" data-doc-path="[^"]+"></div>', index)) == len(rows)
    # the fingerprints are the baseline's
    previous = Path.cwd()
    os.chdir(desk)
    try:
        assert main(["baseline", "create", "reposts", "--sources", "sources.jsonl", "--output", str(tmp_path / "b.json")]) == 0
    finally:
        os.chdir(previous)
    baseline = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))["findings"]
    for path in ("reposts/roundup.txt", "reposts/warned.txt"):
        page = (report / "documents" / page_name(path)).read_text(encoding="utf-8")
        body = re.search(r"<body([^>]*)>", page).group(1)
        sha = hashlib.sha256((desk / path).read_bytes()).hexdigest()
        assert f'data-doc-path="{path}"' in body and f'data-doc-sha256="{sha}"' in body
        findings = re.findall(r'<li class="finding[^"]*" id="finding-\d+" tabindex="-1" data-rule="([^"]+)" data-fingerprint="([^"]+)"', page)
        assert sorted(findings) == sorted((e["rule"], e["fingerprint"]) for e in baseline if e["path"] == path)
        assert f'<div class="decision" data-doc-path="{path}"></div>' in page


HOSTILE = f'<img src=x onerror="{PAYLOAD}"><script>{PAYLOAD}</script>'


def test_decisions_in_the_context_are_shown_escaped(browser, desk: Path, tmp_path: Path, monkeypatch):  # noqa: F811
    from compliance.report.html import write_html_report

    page = _roundup_page(desk).read_text(encoding="utf-8")
    fingerprint = re.search(r'data-rule="excerpt-limit" data-fingerprint="([^"]+)"', page).group(1)
    # the documents again, as a scan gives them to the report (from the stored state)
    documents = _rescan_documents(desk, monkeypatch)
    decided = {"status": "hold", "reviewer": f"eve{HOSTILE}", "at": "2026-12-06T12:00:00Z", "reason": f"ask Fox {HOSTILE}"}
    report = ReportInput(documents, decisions={"reposts/plain.txt": {**decided, "status": "publish"}, "reposts/roundup.txt": decided},
                         finding_decisions={fingerprint: {**decided, "status": "accepted"}})
    folder = write_html_report(report, tmp_path / "reports")
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "<img" not in index and index.count("<script") == 1 and "&lt;script&gt;" in index
    assert re.search(r'<div class="decision" data-doc-path="reposts/plain.txt"><span class="dec dec-publish">publish</span>', index)
    roundup = (folder / "documents" / page_name("reposts/roundup.txt")).read_text(encoding="utf-8")
    assert re.search(rf'data-fingerprint="{fingerprint}"><span class="dec dec-accepted">accepted</span>', roundup)
    for file in (folder / "index.html", folder / "documents" / page_name("reposts/roundup.txt")):
        view, errors = _open(browser, file)
        assert view.evaluate("typeof window.pwned") == "undefined" and errors == []
        assert "ask Fox <img" in view.inner_text("body")  # shown as text
        view.close()
    # decided documents leave the "needs a decision" group; without decisions nothing is drawn
    assert 'data-doc-path="reposts/roundup.txt" ' in index and 'class="g-decided"' in index
    plain = render_pages(ReportInput(documents))["index.html"]
    assert 'class="dec ' not in plain and "g-decided" not in plain


def _rescan_documents(desk: Path, monkeypatch):
    """The scan's results, as `compliance scan` hands them to the formatters."""
    from compliance.report import html

    captured = []
    real = html.render_pages

    def capture(report, generated=""):
        captured.append(report.documents)
        return real(report, generated)

    monkeypatch.setattr(html, "render_pages", capture)
    _scan(desk, "again", ("--no-state",))
    return captured[0]

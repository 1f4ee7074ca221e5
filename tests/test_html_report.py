"""The HTML report: folder layout, escaping of hostile reposts, and behaviour in headless Chromium."""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from compliance.cli.main import main
from compliance.report.html import page_name, safe_url, segments, Range, word_diff

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"
SCREENSHOTS = ROOT / "reports" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAYLOAD = "window.pwned=1"


def _scan_html(tmp: Path, *paths: Path, sources: Path) -> Path:
    # The state goes with the report: module fixtures run before the per-test isolation of the
    # default state, which would otherwise land in the checkout the tests run from.
    # Run from `tmp`, the project root: documents are named from it.
    previous = Path.cwd()
    os.chdir(tmp)
    try:
        code = main(["scan", *map(str, paths), "--sources", str(sources), "--format", "html",
                     "--report-dir", str(tmp / "reports"), "--state", str(tmp / "state.db"), "-q"])
    finally:
        os.chdir(previous)
    assert code in (0, 1)
    return (tmp / "reports" / "latest").resolve()


@pytest.fixture(scope="module")
def example_report(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("examples")
    shutil.copytree(EXAMPLES / "reposts", tmp / "reposts")
    return _scan_html(tmp, tmp / "reposts", sources=EXAMPLES / "sources")


@pytest.fixture(scope="module")
def payload_report(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("payload")
    source_file = EXAMPLES / "sources" / "newsweek-iran-russia-missiles-niac.md"
    sources = tmp / "sources"
    sources.mkdir()
    text = source_file.read_text(encoding="utf-8").replace("license: full", f"license: full\nurl: \"javascript:{PAYLOAD}\"")
    # the source's title is shown in headings, the legend, tabs and messages
    text = re.sub(r'^title: .*$', f"title: \"NIAC <script>{PAYLOAD}</script><img src=x onerror={PAYLOAD}>\"", text, count=1, flags=re.M)
    (sources / source_file.name).write_text(text, encoding="utf-8")
    paragraphs = text.split("---", 2)[2].strip().split("\n\n")[:8]
    reposts = tmp / "reposts"
    reposts.mkdir()
    hostile = [f"Look <script>{PAYLOAD}</script> here.", f'Picture <img src=x onerror="{PAYLOAD}"> here.',
               f'Click <a href="javascript:{PAYLOAD}">x</a> now.']
    html_body = "\n".join(f"<p>{p}</p>" for p in paragraphs[:4] + hostile + paragraphs[4:])
    html_body += f"\n<p>Escaped &lt;script&gt;{PAYLOAD}&lt;/script&gt; &lt;img src=x onerror=\"{PAYLOAD}\"&gt;</p>"
    (reposts / "evil.html").write_text(
        "<!doctype html><html><head><meta charset=\"utf-8\">"
        f"<title>Evil &lt;/title&gt;&lt;script&gt;{PAYLOAD}&lt;/script&gt;</title></head>"
        f"<body><article>{html_body}</article></body></html>\n", encoding="utf-8")
    md_body = "\n\n".join(paragraphs[:4] + hostile + paragraphs[4:])
    (reposts / "evil.md").write_text(
        f"---\ntitle: \"Evil </title><script>{PAYLOAD}</script>\"\n---\n\n{md_body}\n", encoding="utf-8")
    return _scan_html(tmp, reposts, sources=sources)


@pytest.fixture(scope="module")
def roundup_report(tmp_path_factory) -> Path:
    """A roundup of the Fox Business and Al Jazeera stories of the examples' catalogue, with a
    hostile line of the desk's own between them."""
    tmp = tmp_path_factory.mktemp("roundup")
    texts = {name: (EXAMPLES / "sources" / f"{name}.md").read_text(encoding="utf-8").split("---", 2)[2].strip().split("\n\n")
             for name in ("foxbusiness-home-depot-sales", "aljazeera-nasa-moon-shot")}
    body = texts["foxbusiness-home-depot-sales"][2:6] + [f"Meanwhile <script>{PAYLOAD}</script> in space:"] + texts["aljazeera-nasa-moon-shot"][:5]
    (tmp / "reposts").mkdir()
    (tmp / "reposts" / "roundup.txt").write_text("Morning roundup\n\n" + "\n\n".join(body) + "\n", encoding="utf-8")
    return _scan_html(tmp, tmp / "reposts", sources=EXAMPLES / "sources")


# ---------------------------------------------------------------------------------------------
# Folder and pages


def test_report_folder_layout(example_report: Path):
    assert example_report.name.startswith("run-")
    assert (example_report.parent / "latest").is_symlink()
    assert (example_report / "index.html").is_file()
    data = json.loads((example_report / "report.json").read_text(encoding="utf-8"))
    assert data["summary"]["documents"] == 5
    pages = sorted(p.name for p in (example_report / "documents").iterdir())
    with_findings = [d["path"] for d in data["documents"] if d["findings"]]
    assert pages == sorted(page_name(p) for p in with_findings)
    assert not [p for p in example_report.parent.iterdir() if p.name.endswith(".tmp")]


def test_second_run_keeps_the_first_and_moves_latest(tmp_path: Path):
    first = _scan_html(tmp_path, EXAMPLES / "reposts", sources=EXAMPLES / "sources")
    second = _scan_html(tmp_path, EXAMPLES / "reposts", sources=EXAMPLES / "sources")
    assert first != second and first.is_dir() and second.is_dir()
    assert (tmp_path / "reports" / "latest").resolve() == second


def test_index_lists_every_document_without_full_text(example_report: Path):
    index = (example_report / "index.html").read_text(encoding="utf-8")
    for name in ("desk-column.md", "home-depot-sales.txt", "nasa-moon-shot.html", "niac-missiles-repost.txt", "wework-investigation.md"):
        assert name in index
    assert "<svg" in index and "attribution-missing" in index
    assert 'data-status="clean"' in index
    assert "advocacy group has said" not in index  # a sentence of the seed repost's body


def test_document_page_marks_spans_and_duplicates(example_report: Path):
    page = (example_report / "documents" / page_name("reposts/niac-missiles-repost.txt")).read_text(encoding="utf-8")
    assert 'id="doc-span-1"' in page and 'id="src-span-1"' in page
    assert 'data-target="src-span-1"' in page
    assert 'id="dup-1a"' in page and 'id="dup-1b"' in page
    assert "Newsweek" in page and "attribution-missing" in page


def test_a_roundup_page_paints_each_source_in_its_own_colour(roundup_report: Path):
    page = (roundup_report / "documents" / page_name("reposts/roundup.txt")).read_text(encoding="utf-8")
    legend = re.search(r'<span class="legend">(.*?)</span>', page, re.S).group(1)
    # sources are named by title and publisher, their ids in small print
    assert re.search(r'<mark class="copy src-1">“[^<]+” \(Al Jazeera\)</mark>', legend), legend
    assert re.search(r'<mark class="copy src-2">“[^<]+” \(Fox Business\)</mark>', legend), legend
    assert "id <code>aljazeera-nasa-moon-shot</code>" in page
    assert 'class="copy src-1" id="doc-span-1"' in page and 'class="copy src-2" id="doc-s2-span-1"' in page
    assert 'id="src-text"' in page and 'id="src-text-2"' in page and 'data-target="src-s2-span-1"' in page
    assert "&lt;script&gt;" in page and f"<script>{PAYLOAD}" not in page
    index = (roundup_report / "index.html").read_text(encoding="utf-8")
    assert "<option>Fox Business</option>" in index and "<option>Al Jazeera</option>" in index


def test_word_diff_and_segments():
    diff = word_diff("the copyright belongs to the author", "the copyright is the author")
    assert ("del", "belongs to") in diff and ("ins", "is") in diff
    pieces = segments("abcdef", [Range(1, 4, "copy", "x", "y"), Range(3, 5, "dup", "z")])
    assert "".join(p.text for p in pieces) == "abcdef"
    assert [p.id for p in pieces if p.id] == ["x", "z"]
    assert safe_url("https://example.com") and not safe_url("javascript:alert(1)") and not safe_url(None)


def test_disclaimer_diff_rendered(tmp_path: Path):
    seed = (EXAMPLES / "reposts" / "niac-missiles-repost.txt").read_text(encoding="utf-8")
    damaged = seed.replace("does not constitute any investment advice. If there is any infringement, please contact us immediately.",
                           "is not advice. Contact us.")
    reposts = tmp_path / "in"
    reposts.mkdir()
    (reposts / "damaged.txt").write_text(damaged, encoding="utf-8")
    folder = _scan_html(tmp_path, reposts, sources=EXAMPLES / "sources")
    page = (folder / "documents" / page_name("in/damaged.txt")).read_text(encoding="utf-8")
    assert "disclaimer-missing" in page
    assert "<del>" in page
    assert "<ins>" in page


def test_payloads_render_as_inert_text(payload_report: Path):
    files = [payload_report / "index.html", *sorted((payload_report / "documents").glob("*.html"))]
    assert len(files) == 3
    escaped_seen = False
    for file in files:
        html = file.read_text(encoding="utf-8")
        assert len(re.findall(r"<script", html, re.IGNORECASE)) == 1, file  # only the report's own script
        assert not re.search(r"<[a-z][^>]*\son\w+\s*=", html, re.IGNORECASE), file
        assert not re.search(r"""(href|src)\s*=\s*["']?\s*javascript:""", html, re.IGNORECASE), file
        assert "<img" not in html and "</title><script>" not in html
        escaped_seen |= "&lt;script&gt;" in html
    assert escaped_seen
    page = next(f for f in files if "evil.md" in f.name).read_text(encoding="utf-8")
    assert f"“NIAC &lt;script&gt;{PAYLOAD}&lt;/script&gt;&lt;img src=x onerror={PAYLOAD}&gt;”" in page


# ---------------------------------------------------------------------------------------------
# In the browser


@pytest.fixture(scope="module")
def browser():
    # On a developer's machine without a browser these tests are skipped; in CI (.ci/run installs
    # chromium and playwright) a missing browser is a failure, so they can never pass unrun.
    missing = pytest.fail if os.environ.get("CI") else pytest.skip
    try:
        from playwright import sync_api
    except ImportError:
        missing("playwright is not installed (pip install -e '.[test]')")
    if not os.path.exists(CHROMIUM):
        missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _open(browser, path: Path, width: int = 1280):
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, errors


def _visible_paths(page) -> list[str]:
    return page.eval_on_selector_all("#docs tbody tr:not([hidden])", "rows => rows.map(r => r.getAttribute('data-doc-path'))")


def test_index_in_browser_sorts_and_filters(browser, example_report: Path):
    page, errors = _open(browser, example_report / "index.html")
    assert len(_visible_paths(page)) == 5
    before = _visible_paths(page)
    page.click("button.sort[data-col='3']")  # containment, ascending
    page.click("button.sort[data-col='3']")  # descending
    after = _visible_paths(page)
    assert sorted(after) == sorted(before) and after != before
    assert page.get_attribute("#docs thead th:nth-child(4)", "aria-sort") == "descending"
    page.select_option("#f-status", "clean")
    assert sorted(_visible_paths(page)) == ["reposts/desk-column.md", "reposts/wework-investigation.md"]
    page.select_option("#f-status", "")
    page.select_option("#f-rule", "caption-duplicated")
    assert sorted(_visible_paths(page)) == ["reposts/nasa-moon-shot.html", "reposts/niac-missiles-repost.txt"]
    page.select_option("#f-rule", "")
    page.select_option("#f-publisher", "Fox Business")
    assert _visible_paths(page) == ["reposts/home-depot-sales.txt"]
    page.select_option("#f-publisher", "")
    page.select_option("#f-severity", "warning")
    assert len(_visible_paths(page)) == 2
    assert "Showing 2 of 5" in page.inner_text("#shown")
    page.select_option("#f-severity", "")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "index.png"), full_page=True)
    assert errors == []
    page.close()


def test_document_page_in_browser_jumps_to_counterpart(browser, example_report: Path):
    page, errors = _open(browser, example_report / "documents" / page_name("reposts/niac-missiles-repost.txt"))
    assert page.locator("mark.copy").count() > 0 and page.locator("mark.dup").count() >= 2
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "niac-missiles-repost.png"), full_page=False)
    page.evaluate("document.getElementById('src-text').scrollTop = 0")
    page.click("#doc-span-2")
    assert page.evaluate("document.activeElement.id") == "src-span-2"
    assert page.evaluate("document.getElementById('src-text').scrollTop") > 0
    page.click("#dup-1a")
    assert page.evaluate("document.activeElement.id") == "dup-1b"
    page.screenshot(path=str(SCREENSHOTS / "niac-missiles-repost-full.png"), full_page=True)
    assert errors == []
    page.close()


def test_roundup_page_in_browser_colours_and_jumps_per_source(browser, roundup_report: Path):
    page, errors = _open(browser, roundup_report / "documents" / page_name("reposts/roundup.txt"))
    colour = "el => getComputedStyle(el).backgroundColor"
    first, second = page.eval_on_selector("#doc-span-1", colour), page.eval_on_selector("#doc-s2-span-1", colour)
    assert first != second and page.eval_on_selector("#src-s2-span-1", colour) == second
    page.click("#doc-s2-span-1")
    assert page.evaluate("document.activeElement.id") == "src-s2-span-1"
    assert page.evaluate("typeof window.pwned") == "undefined"
    index, _ = _open(browser, roundup_report / "index.html")
    index.select_option("#f-publisher", "Fox Business")  # the second source of the roundup
    assert _visible_paths(index) == ["reposts/roundup.txt"]
    assert errors == []
    page.close()
    index.close()


def test_narrow_screen_stacks_the_panes(browser, example_report: Path):
    page, errors = _open(browser, example_report / "documents" / page_name("reposts/niac-missiles-repost.txt"), width=400)
    doc = page.locator("#doc-text").bounding_box()
    src = page.locator("#src-text").bounding_box()
    assert src["y"] > doc["y"] + doc["height"] - 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 420
    assert errors == []
    page.close()


def test_payload_pages_run_no_injected_script(browser, payload_report: Path):
    for file in [payload_report / "index.html", *sorted((payload_report / "documents").glob("*.html"))]:
        page, errors = _open(browser, file)
        for link in page.locator("a").all():
            assert not (link.get_attribute("href") or "").lower().startswith("javascript:")
        page.locator("mark").first.click() if page.locator("mark").count() else None
        for passage in page.locator("button.passage").all():
            passage.click()
        page.keyboard.press("j")
        page.keyboard.press("?")
        assert page.evaluate("typeof window.pwned") == "undefined", file
        assert errors == [], (file, errors)
        page.close()


# ---------------------------------------------------------------------------------------------
# Retention of run folders (--keep-runs)


def _old_runs(reports: Path, count: int, day: str = "20200101") -> list[Path]:
    """Run folders as earlier scans left them, oldest first."""
    runs = []
    for n in range(count):
        run = reports / f"run-{day}T{n // 60:02d}{n % 60:02d}00Z"
        (run / "documents").mkdir(parents=True)
        (run / "index.html").write_text("<!doctype html>", encoding="utf-8")
        (run / "documents" / "page.html").write_text("<!doctype html>", encoding="utf-8")
        runs.append(run)
    return runs


def _scan_to(reports: Path, *extra: str) -> int:
    return main(["scan", str(EXAMPLES / "reposts"), "--sources", str(EXAMPLES / "sources"), "--format", "html",
                 "--report-dir", str(reports), "--no-state", "-q", *extra])


def _runs_in(reports: Path) -> list[str]:
    return sorted(p.name for p in reports.iterdir() if p.name.startswith("run-20") and p.is_dir())


def test_a_scan_keeps_the_newest_runs_and_removes_only_older_runs_it_made(tmp_path: Path):
    reports = tmp_path / "reports"
    old = _old_runs(reports, 4)
    foreign = [reports / "notes.txt", reports / "run-notes", reports / "run-20190101T000000Z.bak",
               reports / "run-20190101T000000Z", reports / "run-20190102T000000Z"]
    foreign[0].write_text("mine", encoding="utf-8")
    foreign[1].mkdir()
    foreign[2].mkdir()
    (foreign[2] / "index.html").write_text("a copy the user kept", encoding="utf-8")
    foreign[3].mkdir()  # named like a run, but no report in it: not ours
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "index.html").write_text("not in the report folder", encoding="utf-8")
    foreign[4].symlink_to(elsewhere)  # a link named like a run: neither it nor its target is touched
    assert _scan_to(reports, "--keep-runs", "3") == 1
    latest = (reports / "latest").resolve()
    assert sorted(os.listdir(reports)) == sorted([old[2].name, old[3].name, latest.name, "latest", *(p.name for p in foreign)])
    assert (foreign[0].read_text(encoding="utf-8") == "mine" and (foreign[2] / "index.html").is_file()
            and (elsewhere / "index.html").is_file() and (latest / "index.html").is_file())


def test_twenty_runs_are_kept_by_default_and_zero_keeps_every_run(tmp_path: Path):
    reports = tmp_path / "reports"
    _old_runs(reports, 24)
    assert _scan_to(reports, "--keep-runs", "0") == 1
    assert len(_runs_in(reports)) == 25
    assert _scan_to(reports) == 1
    names = _runs_in(reports)
    assert len(names) == 20 and (reports / "latest").resolve().name in names
    assert names[0] == "run-20200101T000600Z"  # the oldest went first


def test_the_run_latest_points_at_is_never_removed(tmp_path: Path):
    from compliance.report.html import prune_runs

    reports = tmp_path / "reports"
    old = _old_runs(reports, 5)
    (reports / "latest").symlink_to(old[0].name)
    assert prune_runs(reports, 2) == []
    assert _runs_in(reports) == [old[0].name, old[3].name, old[4].name]


def test_runs_of_one_second_are_ordered_by_their_number(tmp_path: Path):
    from compliance.report.html import prune_runs

    reports = tmp_path / "reports"
    for name in ("run-20200101T000000Z", "run-20200101T000000Z-2", "run-20200101T000000Z-10"):
        (reports / name).mkdir(parents=True)
        (reports / name / "index.html").write_text("", encoding="utf-8")
    assert prune_runs(reports, 1) == []
    assert _runs_in(reports) == ["run-20200101T000000Z-10"]


def test_a_run_that_cannot_be_removed_is_a_one_line_warning_and_retried_later(tmp_path: Path, capsys, monkeypatch):
    import compliance.report.html as html

    reports = tmp_path / "reports"
    old = _old_runs(reports, 3)
    real_rmtree = html.shutil.rmtree

    def refuse(path, *args, **kwargs):
        if str(path).startswith(str(old[0])):
            raise PermissionError(13, "Permission denied")
        real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(html.shutil, "rmtree", refuse)
    assert _scan_to(reports, "--keep-runs", "1") == 1  # the exit code is the findings', not the cleanup's
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot remove old report run {old[0]}: Permission denied" in err
    assert _runs_in(reports) == [old[0].name, (reports / "latest").resolve().name]
    assert (old[0] / "index.html").is_file()  # still a run: the next scan tries again
    monkeypatch.setattr(html.shutil, "rmtree", real_rmtree)
    assert _scan_to(reports, "--keep-runs", "1") == 1
    assert _runs_in(reports) == [(reports / "latest").resolve().name]

"""`compliance review` in headless Chromium: decisions recorded by clicking in the served report,
kept across a server restart, honoured by the next scan, reopened when the document changes,
and reviewers' text that never runs as code.

These need the browser: a missing Chromium or Playwright is a failure, never a skip, so the
review controls cannot pass untested.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from test_review import NIAC, make_desk, scan

from compliance.cli.main import main

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REASON = 'Licensed without credit <img src=x onerror="window.pwned=1"><script>window.pwned=1</script>'
DEV = Path("/work/shared/eval/dev")


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright import sync_api
    except ImportError:
        pytest.fail("playwright is not installed (pip install -e '.[test]')")
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """`compliance review`'s app under uvicorn on a thread, as the command runs it."""

    def __init__(self, desk: Path, reviewer: str = "rita", token: str | None = None):
        import uvicorn

        from compliance.review.app import ReviewSettings, create_app

        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        app = create_app(ReviewSettings(desk / "reports", desk / ".compliance" / "state.db", desk / ".compliance-waivers.yaml",
                                        reviewer, token))
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the review server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def decisions(self) -> list[dict]:
        with urllib.request.urlopen(f"{self.base}/api/decisions", timeout=10) as answer:
            return json.loads(answer.read())["decisions"]


@pytest.fixture
def desk(tmp_path, monkeypatch) -> Path:
    make_desk(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert scan() == 1
    return tmp_path


def _page(browser, url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    page.wait_for_selector("body[data-review-ready]")
    return page, errors


def _document_url(served: Served, desk: Path) -> str:
    name = next((desk / "reports" / "latest" / "documents").glob("*niac*")).name
    return f"{served.base}/documents/{name}"


def test_a_decision_clicked_in_the_report_sticks_is_honoured_and_reopens(browser, desk):
    served = Served(desk)
    try:
        page, errors = _page(browser, f"{served.base}/")
        page.click(f'tr[data-doc-path="{NIAC}"] a')
        page.wait_for_selector("body[data-review-ready]")
        assert page.get_attribute("body", "data-doc-path") == NIAC
        assert page.text_content(".review-document [data-review-status]") == "No decision yet."
        page.click('.review-document [data-review="publish"]')
        page.wait_for_selector('.review-document [data-review-status="publish"]')
        finding = 'li[data-rule="attribution-missing"]'
        page.click(f'{finding} [data-review="accept"]')
        page.click(f'{finding} [data-review="save"]')  # no reason yet: refused in the page
        assert "needs a reason" in page.text_content(".review-live")
        page.fill(f"{finding} .review-reason", REASON)
        page.fill(f"{finding} .review-expires", "2099-12-31")
        page.click(f'{finding} [data-review="save"]')
        page.wait_for_selector(f'{finding} [data-review-status="accept"]')
        shown = page.text_content(f"{finding} .review-status")
        assert REASON in shown and "rita" in shown and "2099-12-31" in shown  # the markup shown as text
        assert page.evaluate("window.pwned") is None
        assert page.query_selector(f"{finding} .review-status img, {finding} .review-status script") is None
        assert not errors, errors
        page.close()
    finally:
        served.stop()

    # a new server on the same state: the decisions are still there
    served = Served(desk)
    try:
        page, errors = _page(browser, _document_url(served, desk))
        assert page.get_attribute(".review-document [data-review-status]", "data-review-status") == "publish"
        assert REASON in page.text_content('li[data-rule="attribution-missing"] .review-status')
        assert page.evaluate("window.pwned") is None
        page.close()
        index, _ = _page(browser, f"{served.base}/")
        assert index.text_content(f'tr[data-doc-path="{NIAC}"] .review-badge') == "publish"
        index.close()

        # the next scan honours the accepted finding as a waiver: the gate passes
        assert scan() == 0
        page, errors = _page(browser, _document_url(served, desk))
        accepted = page.get_attribute('li[data-rule="attribution-missing"]', "class")
        assert "suppressed" in accepted
        assert "Licensed without credit" in page.text_content('li[data-rule="attribution-missing"] .why')
        assert page.evaluate("window.pwned") is None
        page.close()

        # the document changes: its decisions are reopened
        repost = desk / NIAC
        repost.write_text(repost.read_text(encoding="utf-8") + "\nA paragraph the desk added after the review.\n", encoding="utf-8")
        scan()
        page, errors = _page(browser, _document_url(served, desk))
        assert page.get_attribute(".review-document [data-review-status]", "data-review-status") == "reopened"
        assert "document changed" in page.text_content(".review-document .review-status")
        assert {d["state"] for d in served.decisions()} == {"reopened"}
        assert not errors, errors
        page.close()
    finally:
        served.stop()


def test_a_cross_site_page_cannot_record_a_decision(browser, desk):
    """A page of another origin posts to the review server as a form and as a fetch that needs
    no preflight: both are refused, and nothing is recorded."""
    served = Served(desk)
    try:
        evil_origin = f"http://localhost:{served.port}"  # another origin (and site) than 127.0.0.1
        target = f"{served.base}/api/decisions"
        body = json.dumps({"doc_path": NIAC, "status": "publish"})
        evil = (f'<!doctype html><form id="f" method="post" enctype="text/plain" action="{target}">'
                f"<input name='{body[:-2]}' value='{body[-2:]}'></form>"
                f"<script>fetch({json.dumps(target)}, {{method: 'POST', mode: 'no-cors', credentials: 'include',"
                f" headers: {{'Content-Type': 'text/plain'}}, body: {json.dumps(body)}}}).finally(function () {{"
                f" document.getElementById('f').submit(); }});</script>")
        page = browser.new_page()
        statuses: list[int] = []
        page.on("response", lambda r: statuses.append(r.status) if r.url == target else None)
        page.route(f"{evil_origin}/evil", lambda route: route.fulfill(status=200, content_type="text/html", body=evil))
        page.goto(f"{evil_origin}/evil")
        page.wait_for_url(target, timeout=10000)  # the form's answer
        assert statuses and all(status == 403 for status in statuses), statuses
        assert "cross-site" in page.text_content("body")
        assert served.decisions() == []
        page.close()
    finally:
        served.stop()


def test_with_a_token_the_first_visit_sets_a_cookie_and_the_controls_work(browser, desk):
    served = Served(desk, token="t0ken")
    try:
        page = browser.new_page()
        assert page.goto(f"{served.base}/").status == 401
        page, errors = _page(browser, f"{served.base}/?token=t0ken")
        assert "token" not in page.url
        page.click(f'tr[data-doc-path="{NIAC}"] a')
        page.wait_for_selector("body[data-review-ready]")
        page.click('.review-document [data-review="hold"]')
        page.wait_for_selector('.review-document [data-review-status="hold"]')
        assert not errors, errors
    finally:
        served.stop()


@pytest.mark.skipif(not (DEV / "reposts").is_dir(), reason="the development set (/work/shared/eval/dev) is not here")
def test_every_document_of_the_development_set_can_be_decided(browser, tmp_path, monkeypatch):
    """On the 213 reposts of the development set: every row and every finding carries what the
    controls need, and a hold recorded on one page shows on the index."""
    shutil.copytree(DEV / "reposts", tmp_path / "reposts")
    (tmp_path / "compliance.yaml").write_text(
        f"sources: [{(DEV / 'sources').as_posix()}]\nreport_dir: reports\nstate: .compliance/state.db\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["scan", "reposts", "--format", "html", "-q", "--fail-on", "never"]) == 0
    served = Served(tmp_path)
    try:
        index, errors = _page(browser, f"{served.base}/")
        rows = index.eval_on_selector_all("tr[data-doc-path]", "rows => rows.map(r => r.getAttribute('data-doc-path'))")
        assert len(rows) == len(list((DEV / "reposts").rglob("*.*"))) and all(rows)
        first = index.get_attribute("tr[data-doc-path] a", "href")
        page, errors = _page(browser, f"{served.base}/{first}")
        path = page.get_attribute("body", "data-doc-path")
        assert page.eval_on_selector_all("[data-fingerprint]", "f => f.every(x => x.getAttribute('data-fingerprint').length === 32)")
        page.click('.review-document [data-review="hold"]')
        page.wait_for_selector('.review-document [data-review-status="hold"]')
        index.reload()
        index.wait_for_selector("body[data-review-ready]")
        assert index.text_content(f'tr[data-doc-path="{path}"] .review-badge') == "hold"
        assert not errors, errors
    finally:
        served.stop()


def test_a_hostile_repost_served_for_review_never_runs(browser, desk):
    """The served page's policy is the report's widened to this server: a repost's markup
    still never runs, in its own page or in the review controls."""
    payload = "window.pwned=1"
    niac = (desk / NIAC).read_text(encoding="utf-8").split("\n\n")
    hostile = [f"Look <script>{payload}</script> here.", f'Picture <img src=x onerror="{payload}"> here.']
    evil = desk / "reposts" / "evil.txt"  # plain text: every character of it reaches the page
    evil.write_text(f"Evil </title><script>{payload}</script>\n\n" + "\n\n".join(niac[1:6] + hostile + niac[6:]), encoding="utf-8")
    main(["scan", "reposts/evil.txt", "--format", "html", "-q"])
    served = Served(desk)
    try:
        name = next((desk / "reports" / "latest" / "documents").glob("*evil*")).name
        page, errors = _page(browser, f"{served.base}/documents/{name}")
        assert page.get_attribute("body", "data-doc-path") == "reposts/evil.txt"
        assert page.query_selector_all("[data-fingerprint] .review-finding")  # the controls are there
        page.click('.review-document [data-review="hold"]')
        page.wait_for_selector('.review-document [data-review-status="hold"]')
        assert page.evaluate("window.pwned") is None
        assert f"<script>{payload}</script>" in page.text_content("#doc-text")
        assert not errors, errors
    finally:
        served.stop()

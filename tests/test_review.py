"""`compliance review`'s API and its guards, `compliance decisions export`, and accepted findings
as waivers, on a scan of the bundled examples (Starlette's TestClient; the browser tests are in
test_review_browser.py)."""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLES, downgrade_state

from compliance.cli.main import main
from compliance.config import load_waiver_file
from compliance.model import finding_fingerprint
from compliance.state.incremental import content_hash
from compliance.state.store import StateStore

pytest.importorskip("starlette")  # the `review` extra; the `test` extra installs it
from starlette.testclient import TestClient  # noqa: E402

from compliance.review.app import ReviewSettings, create_app  # noqa: E402

NIAC = "reposts/niac-missiles-repost.txt"
BASE = "http://127.0.0.1:8765"
SAME = {"Origin": BASE, "Content-Type": "application/json"}
PAYLOAD = '<script>window.pwned=1</script><img src=x onerror="window.pwned=1">'


def make_desk(tmp: Path) -> Path:
    """A project like a desk's: the examples' reposts, a configuration, the state beside it."""
    shutil.copytree(EXAMPLES / "reposts", tmp / "reposts")
    (tmp / "compliance.yaml").write_text(
        f"# the desk's settings\nsources: [{(EXAMPLES / 'sources').as_posix()}]\nreport_dir: reports\nstate: .compliance/state.db\n", encoding="utf-8")
    return tmp


def scan(*extra: str) -> int:
    return main(["scan", NIAC, "--format", "html", "-q", *extra])


@pytest.fixture
def desk(tmp_path, monkeypatch) -> Path:
    make_desk(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert scan() == 1  # attribution-missing, an error
    return tmp_path


def settings(desk: Path, **changes) -> ReviewSettings:
    values = dict(report_dir=desk / "reports", state=desk / ".compliance" / "state.db",
                  waivers=desk / ".compliance-waivers.yaml", reviewer="rita")
    values.update(changes)
    return ReviewSettings(**values)


def client(desk: Path, **changes) -> TestClient:
    return TestClient(create_app(settings(desk, **changes)), base_url=BASE)


def open_finding(desk: Path, rule: str) -> str:
    store = StateStore.open(desk / ".compliance" / "state.db", create=False)
    try:
        return next(f.fingerprint for f in store.open_findings() if f.rule == rule)
    finally:
        store.close()


def test_decisions_are_recorded_listed_and_withdrawn(desk):
    api = client(desk)
    assert api.get("/api/decisions").json() == {"decisions": [], "reviewer": "rita"}
    made = api.post("/api/decisions", json={"doc_path": NIAC, "status": "hold"}, headers=SAME)
    assert made.status_code == 201, made.text
    decision = made.json()
    assert (decision["doc_path"], decision["status"], decision["reviewer"], decision["state"]) == (NIAC, "hold", "rita", "current")
    assert decision["fingerprint"] is None and decision["at"].endswith("Z") and len(decision["doc_hash"]) == 32
    later = api.post("/api/decisions", json={"doc_path": NIAC, "status": "publish"}, headers=SAME).json()
    states = [(d["status"], d["state"]) for d in api.get("/api/decisions").json()["decisions"]]
    assert states == [("hold", "superseded"), ("publish", "current")]
    assert api.delete(f"/api/decisions/{later['id']}", headers={"Origin": BASE}).status_code == 200
    assert [d["status"] for d in api.get("/api/decisions").json()["decisions"]] == ["hold"]
    assert api.delete(f"/api/decisions/{later['id']}", headers={"Origin": BASE}).status_code == 404


def test_accepting_a_finding_writes_a_waiver_the_next_scan_honours(desk):
    (desk / ".compliance-waivers.yaml").write_text("# ours: keep\nwaivers:\n  - paths: [nothing/*]\n    rules: [all]\n"
                                                   "    reason: a hand-written one\n", encoding="utf-8")
    fingerprint = open_finding(desk, "attribution-missing")
    api = client(desk)
    answer = api.post("/api/decisions", headers=SAME, json={
        "doc_path": NIAC, "status": "accept", "fingerprint": fingerprint, "reason": "licensed without credit, ticket 42",
        "expires": "2099-12-31"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["rule"] == "attribution-missing"
    text = (desk / ".compliance-waivers.yaml").read_text(encoding="utf-8")
    assert text.startswith("# ours: keep\nwaivers:\n  - paths: [nothing/*]\n")  # what the user wrote, as written
    waivers = load_waiver_file(desk / ".compliance-waivers.yaml")
    assert [w.reason for w in waivers] == ["a hand-written one", "licensed without credit, ticket 42"]
    assert (waivers[1].fingerprints, waivers[1].reviewer, str(waivers[1].expires)) == ((fingerprint,), "rita", "2099-12-31")
    again = api.post("/api/decisions", headers=SAME, json={
        "doc_path": NIAC, "status": "accept", "fingerprint": fingerprint, "reason": "once more"})
    assert again.status_code == 409 and len(load_waiver_file(desk / ".compliance-waivers.yaml")) == 2
    # the gate passes now: the error is waived, the warning does not fail it
    assert scan("--format", "json") == 0
    report = json.loads(next((desk / "reports" / "latest").glob("report.json")).read_text(encoding="utf-8"))
    niac = next(d for d in report["documents"] if d["path"] == NIAC)
    waived = [f for f in niac["findings"] if f["rule"] == "attribution-missing"]
    assert waived and waived[0]["suppressed"]["kind"] == "waiver"
    assert waived[0]["suppressed"]["reason"] == "licensed without credit, ticket 42"


def test_an_accepted_finding_is_waived_only_while_its_document_is_unchanged(desk):
    """A changed document reopens its decisions: the waiver an acceptance wrote is pinned to the
    document as the reviewer saw it, so the edited repost fails the gate again."""
    fingerprint = open_finding(desk, "attribution-missing")
    answer = client(desk).post("/api/decisions", headers=SAME, json={
        "doc_path": NIAC, "status": "accept", "fingerprint": fingerprint, "reason": "licensed"})
    assert answer.status_code == 201, answer.text
    [waiver] = load_waiver_file(desk / ".compliance-waivers.yaml")
    assert waiver.content_hash == content_hash((desk / NIAC).read_bytes())
    assert scan("--format", "json") == 0
    repost = desk / NIAC
    repost.write_text(repost.read_text(encoding="utf-8") + "\nOne more paragraph the desk added later.\n", encoding="utf-8")
    assert scan("--format", "json") == 1
    assert open_finding(desk, "attribution-missing") == fingerprint  # the same finding, in another document
    report = json.loads(next((desk / "reports" / "latest").glob("report.json")).read_text(encoding="utf-8"))
    niac = next(d for d in report["documents"] if d["path"] == NIAC)
    assert [f.get("suppressed") for f in niac["findings"] if f["rule"] == "attribution-missing"] == [None]


def test_an_accepted_finding_waives_only_that_finding(desk):
    """The waiver names the finding's fingerprint: another finding of the same rule in the same
    file still fails."""
    from compliance.checks.suppressions import Waiver, apply_waivers
    from compliance.model import Finding, Severity

    first = Finding("forbidden-text", Severity.ERROR, "m", excerpt="one phrase")
    second = Finding("forbidden-text", Severity.ERROR, "m", excerpt="another phrase")
    waiver = Waiver((f"/{NIAC}",), ("forbidden-text",), "ok", fingerprints=(finding_fingerprint(NIAC, first),))
    marked = apply_waivers((NIAC, NIAC), [first, second], [waiver], __import__("datetime").date.today())
    assert [f.suppression is not None for f in marked] == [True, False]


def test_a_changed_document_reopens_its_decisions(desk):
    api = client(desk)
    assert api.post("/api/decisions", json={"doc_path": NIAC, "status": "publish"}, headers=SAME).status_code == 201
    repost = desk / NIAC
    repost.write_text(repost.read_text(encoding="utf-8") + "\nOne more paragraph the desk added later.\n", encoding="utf-8")
    scan()
    decisions = api.get("/api/decisions").json()["decisions"]
    assert [(d["status"], d["state"]) for d in decisions] == [("publish", "reopened")]
    # and the report of that scan no longer says "publish"
    from compliance.state.decisions import decisions_for_report

    store = StateStore.open(desk / ".compliance" / "state.db", create=False)
    try:
        assert decisions_for_report(store, store.document_hashes()) == ({}, {})
    finally:
        store.close()


def test_decisions_that_hold_reach_the_next_report(desk, monkeypatch):
    api = client(desk)
    api.post("/api/decisions", json={"doc_path": NIAC, "status": "publish"}, headers=SAME)
    seen = {}
    import compliance.report.html as html

    original = html.render_pages

    def spy(report, generated=""):
        seen.update(decisions=report.decisions, finding_decisions=report.finding_decisions)
        return original(report, generated)

    monkeypatch.setattr(html, "render_pages", spy)
    scan()
    assert seen["decisions"][NIAC]["status"] == "publish" and seen["decisions"][NIAC]["reviewer"] == "rita"
    assert seen["finding_decisions"] == {}


def test_a_reason_with_markup_is_stored_and_returned_as_data(desk):
    api = client(desk)
    fingerprint = open_finding(desk, "caption-duplicated")
    made = api.post("/api/decisions", headers=SAME, json={"doc_path": NIAC, "status": "accept", "fingerprint": fingerprint,
                                                           "reason": PAYLOAD})
    assert made.status_code == 201 and made.headers["content-type"] == "application/json"
    assert api.get("/api/decisions").json()["decisions"][0]["reason"] == PAYLOAD
    assert load_waiver_file(desk / ".compliance-waivers.yaml")[0].reason == PAYLOAD


@pytest.mark.parametrize("body, why", [
    ({"doc_path": NIAC, "status": "maybe"}, "status must be"),
    ({"doc_path": "reposts/not-there.txt", "status": "hold"}, "no such document"),
    ({"doc_path": NIAC, "status": "accept", "fingerprint": "0" * 32, "reason": "x"}, "no such open finding"),
    ({"doc_path": NIAC, "status": "accept", "fingerprint": "0" * 32, "reason": "  "}, "needs a reason"),
    ({"doc_path": NIAC, "status": "hold", "reason": "x" * 3000}, "longer than"),
    ({"doc_path": NIAC, "status": "publish", "expires": "2001-01-01"}, "in the past"),
    (["not", "an", "object"], "JSON object"),
])
def test_bad_decisions_are_refused_with_a_reason(desk, body, why):
    answer = client(desk).post("/api/decisions", json=body, headers=SAME)
    assert answer.status_code == 422 and why in answer.json()["error"]
    assert not (desk / ".compliance-waivers.yaml").exists()


def test_cross_site_requests_are_refused(desk):
    api = client(desk)
    body = json.dumps({"doc_path": NIAC, "status": "publish"})
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
                    {"Referer": "https://evil.example/page"}, {"Origin": "http://127.0.0.1:9999"}):
        answer = api.post("/api/decisions", content=body, headers={"Content-Type": "application/json", **headers})
        assert answer.status_code == 403, headers
    assert api.delete("/api/decisions/1", headers={"Origin": "https://evil.example"}).status_code == 403
    assert api.get("/api/decisions").json()["decisions"] == []


def test_a_body_that_is_not_json_is_refused(desk):
    api = client(desk)
    body = json.dumps({"doc_path": NIAC, "status": "publish"})
    for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""):
        answer = api.post("/api/decisions", content=body, headers={"Origin": BASE, "Content-Type": kind})
        assert answer.status_code == 415, kind
    assert api.get("/api/decisions").json()["decisions"] == []


def test_a_token_is_needed_on_every_request_when_set(desk):
    api = client(desk, token="s3cret", host="0.0.0.0")
    assert api.get("/").status_code == 401
    assert api.get("/api/decisions").status_code == 401
    assert api.get("/api/decisions", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert api.get("/api/decisions", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    first = api.get("/?token=s3cret", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/"
    assert "httponly" in first.headers["set-cookie"].lower() and "samesite=strict" in first.headers["set-cookie"].lower()
    assert api.get("/").status_code == 200  # the cookie now
    assert api.post("/api/decisions", json={"doc_path": NIAC, "status": "hold"}, headers=SAME).status_code == 201


def test_off_loopback_without_a_token_the_command_refuses_to_start(desk, capsys):
    assert main(["review", "--host", "0.0.0.0", "--port", "8766"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--token" in err and "0.0.0.0" in err


def test_a_loopback_server_answers_only_to_its_loopback_names(desk):
    """A page of another site whose name is rebound to 127.0.0.1 sends its own Host."""
    api = TestClient(create_app(settings(desk)), base_url="http://evil.example:8765")
    assert api.get("/").status_code == 403
    assert api.get("/api/decisions").status_code == 403


def test_report_files_are_served_and_nothing_outside_them(desk):
    (desk / "secret.txt").write_text("the desk's secret", encoding="utf-8")
    (desk / "reports" / "latest" / "documents" / "link.txt").symlink_to(desk / "secret.txt")
    api = client(desk)
    index = api.get("/")
    assert index.status_code == 200 and "/_review/review.js" in index.text
    for path in ("/..%2f..%2fsecret.txt", "/documents/%2e%2e/%2e%2e/%2e%2e/secret.txt", "/%2e%2e/%2e%2e/secret.txt",
                 "/documents/link.txt", "/..\\..\\secret.txt", "/%2fetc%2fpasswd"):
        answer = api.get(path)
        assert answer.status_code == 404 and "secret" not in answer.text, path


def test_served_pages_carry_a_strict_policy(desk):
    api = client(desk)
    page = next((desk / "reports" / "latest" / "documents").glob("*niac*"))
    answer = api.get(f"/documents/{page.name}")
    csp = answer.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    assert "script-src 'self' 'sha256-" in csp and "connect-src 'self'" in csp
    assert 'http-equiv="Content-Security-Policy"' not in answer.text  # one policy, the header's
    assert f'data-doc-path="{NIAC}"' in answer.text and "data-fingerprint=" in answer.text
    assert api.get("/_review/review.js").headers["content-type"].startswith("text/javascript")
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_decisions_export_as_csv_and_json(desk, capsys):
    api = client(desk)
    api.post("/api/decisions", json={"doc_path": NIAC, "status": "hold", "reason": "=HYPERLINK(\"http://evil.example\")"},
             headers=SAME)
    capsys.readouterr()
    assert main(["decisions", "export", "--format", "json"]) == 0
    exported = json.loads(capsys.readouterr().out)["decisions"]
    assert [(d["doc_path"], d["status"], d["reviewer"], d["state"]) for d in exported] == [(NIAC, "hold", "rita", "current")]
    assert main(["decisions", "export", "--format", "csv", "--output", "decisions.csv"]) == 0
    rows = list(csv.DictReader(io.StringIO((desk / "decisions.csv").read_text(encoding="utf-8"))))
    assert rows[0]["status"] == "hold" and rows[0]["reason"].startswith("'=")  # never a formula in a spreadsheet


def test_decisions_export_without_a_state_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["decisions", "export", "--state", "none.db"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_a_state_of_schema_2_gains_the_decisions_table(desk):
    downgrade_state(desk / ".compliance" / "state.db", 2)
    assert client(desk).post("/api/decisions", json={"doc_path": NIAC, "status": "hold"}, headers=SAME).status_code == 201
    store = StateStore.open(desk / ".compliance" / "state.db", create=False)
    try:
        assert [d.status for d in store.decisions()] == ["hold"] and len(store.runs()) == 1
    finally:
        store.close()


def test_a_waivers_file_that_does_not_end_in_its_list_is_left_alone(desk):
    original = "waivers: []  # none yet\n"
    (desk / ".compliance-waivers.yaml").write_text(original, encoding="utf-8")
    fingerprint = open_finding(desk, "attribution-missing")
    answer = client(desk).post("/api/decisions", headers=SAME, json={
        "doc_path": NIAC, "status": "accept", "fingerprint": fingerprint, "reason": "licensed"})
    assert answer.status_code == 500 and "waivers" in answer.json()["error"]
    assert (desk / ".compliance-waivers.yaml").read_text(encoding="utf-8") == original
    assert client(desk).get("/api/decisions").json()["decisions"] == []  # no decision without its waiver


def test_the_configured_review_waivers_file_is_where_scans_read_accepted_findings(desk, capsys):
    config = desk / "compliance.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "review_waivers: decided/waivers.yaml\n", encoding="utf-8")
    fingerprint = open_finding(desk, "attribution-missing")
    (desk / "decided").mkdir()
    (desk / "decided" / "waivers.yaml").write_text(
        f'waivers:\n  - paths: ["/{NIAC}"]\n    rules: [attribution-missing]\n    fingerprints: ["{fingerprint}"]\n'
        '    reason: "licensed"\n    reviewer: "rita"\n    date: 2026-12-06\n', encoding="utf-8")
    assert scan() == 0
    (desk / "decided" / "waivers.yaml").write_text("waivers:\n  - paths: [x]\n    rules: [all]\n    reviewer: 3\n    reason: r\n",
                                                   encoding="utf-8")
    capsys.readouterr()
    assert scan() == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "decided/waivers.yaml:4" in err and "reviewer" in err


def test_the_review_command_says_in_one_line_what_it_lacks(desk, tmp_path, monkeypatch, capsys):
    assert main(["review", "--report-dir", str(tmp_path / "nothing")]) == 2
    assert "no HTML report here" in capsys.readouterr().err
    monkeypatch.setitem(__import__("sys").modules, "uvicorn", None)  # as when the extra is not installed
    assert main(["review"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'repost-compliance[review]'" in err

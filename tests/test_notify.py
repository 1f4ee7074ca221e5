"""New-finding alerts: a real local HTTP receiver gets exactly the new findings; a failing one costs nothing."""
from __future__ import annotations

import json
import shutil
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import EXAMPLES

import compliance.state.notify as notify
from compliance.cli.main import main

SEED = "niac-missiles-repost.txt"


class Receiver:
    """A webhook receiver on localhost that records every JSON body and answers `status`."""

    def __init__(self, status: int = 200):
        self.bodies: list[dict] = []
        self.status = status
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/SECRET-TOKEN"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def desk(tmp_path, monkeypatch) -> Path:
    shutil.copytree(EXAMPLES / "reposts", tmp_path / "reposts")
    shutil.copytree(EXAMPLES / "sources", tmp_path / "sources")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(notify, "BACKOFF", 0.05)
    return tmp_path


def scan(url: str, *extra: str) -> int:
    return main(["scan", "reposts", "--sources", "sources", "--state", "state.db", "--notify", url,
                 "--format", "json", "--output", "report.json", "-q", *extra])


def test_the_receiver_gets_exactly_the_new_findings(desk):
    with Receiver() as receiver:
        assert scan(receiver.url) == 1
        assert len(receiver.bodies) == 1
        first = receiver.bodies[0]
        assert len(first["new_findings"]) == 5
        assert {f["rule"] for f in first["new_findings"]} == {"attribution-missing", "attribution-mismatch", "excerpt-limit",
                                                             "caption-duplicated"}
        assert set(first["new_findings"][0]) == {"path", "rule", "severity", "line", "message", "fingerprint"}
        assert first["text"].startswith("compliance: 5 new findings (3 error, 2 warning) in 5 documents")
        assert first["run"]["id"] == 1

        assert scan(receiver.url) == 1  # nothing new: nothing posted
        assert len(receiver.bodies) == 1

        column = desk / "reposts" / "desk-column.md"
        column.write_text(column.read_text(encoding="utf-8") + "\nMedia playback is unsupported on your device.\n", encoding="utf-8")
        pack = desk / "desk.yaml"
        pack.write_text("version: 1\nextends: default\nrules:\n  - id: no-player-debris\n    type: forbidden-text\n"
                        "    severity: warning\n    scope: body\n    patterns: ['media playback is unsupported']\n",
                        encoding="utf-8")
        assert scan(receiver.url, "--rules", str(pack)) == 1
        assert len(receiver.bodies) == 2
        second = receiver.bodies[1]
        assert [(f["path"], f["rule"]) for f in second["new_findings"]] == [("reposts/desk-column.md", "no-player-debris")]
        assert second["run"]["rechecked"] == 5 and second["run"]["new"] == 1


@pytest.mark.parametrize("status", [500, 404])
def test_a_failing_receiver_does_not_fail_the_scan(desk, capsys, status):
    with Receiver(status) as receiver:
        assert scan(receiver.url) == 1
        attempts = len(receiver.bodies)
    assert attempts == (notify.ATTEMPTS if status == 500 else 1)  # retried on 5xx only
    assert json.loads((desk / "report.json").read_text(encoding="utf-8"))["summary"]["findings"] == 5
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"HTTP {status}" in err and "not notified of 5 new findings" in err
    assert "SECRET-TOKEN" not in err  # the webhook's secret stays out of cron mail
    # the run was recorded: the next one has nothing new to say
    assert main(["history", "--state", "state.db", "--format", "json"]) == 0


def test_a_receiver_that_refuses_connections_does_not_fail_the_scan(desk, capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens there
    assert scan(f"http://127.0.0.1:{port}/hook") == 1
    err = capsys.readouterr().err
    assert "webhook http://127.0.0.1/… not notified" in err and "ConnectionError" in err
    assert json.loads((desk / "report.json").read_text(encoding="utf-8"))["documents"]


def test_backoff_doubles_between_attempts(monkeypatch):
    waits: list[float] = []
    outcome = notify.post("http://127.0.0.1:9/hook", {"text": "x"}, timeout=0.5, attempts=3, backoff=1.0, sleep=waits.append)
    assert not outcome.ok and outcome.attempts == 3
    assert waits == [1.0, 2.0]


@pytest.mark.parametrize("url", ["http://[::1", "notaurl", "ftp://example.com/hook"])
def test_a_url_no_webhook_can_be_posted_to_is_refused_before_the_scan(tmp_path, capsys, url):
    from compliance.cli.main import main

    code = main(["scan", str(EXAMPLES / "reposts"), "--sources", str(EXAMPLES / "sources"), "--state",
                 str(tmp_path / "state.db"), "--notify", url, "-q"])
    assert code == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "--notify needs an http(s) URL" in error
    assert not (tmp_path / "state.db").exists()

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
from compliance.state.store import StateStore

SEED = "niac-missiles-repost.txt"


class Receiver:
    """A webhook receiver on localhost that records every JSON body (and its bytes) and answers
    `status`, or 500 to the first `failures` requests."""

    def __init__(self, status: int = 200, failures: int = 0):
        self.bodies: list[dict] = []
        self.raw: list[bytes] = []
        self.status = status
        self.failures = failures
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                receiver.raw.append(raw)
                receiver.bodies.append(json.loads(raw))
                status = receiver.status
                if receiver.failures > 0:
                    receiver.failures -= 1
                    status = 500
                self.send_response(status)
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


# -- alerts a receiver missed are queued in the state and delivered later ---------------------

def queued(desk: Path) -> list:
    store = StateStore.open(desk / "state.db", create=False)
    try:
        return store.pending_alerts()
    finally:
        store.close()


def add_repost(desk: Path, name: str) -> None:
    """A copy of a repost under a new name: its findings are new ones."""
    shutil.copy(desk / "reposts" / SEED, desk / "reposts" / name)


def test_an_alert_the_receiver_missed_is_delivered_at_the_next_run_before_its_own(desk, capsys, monkeypatch):
    monkeypatch.setattr(notify, "ATTEMPTS", 1)
    with Receiver(failures=1) as receiver:  # down for run 1, back for run 2
        assert scan(receiver.url) == 1
        assert len(receiver.bodies) == 1 and receiver.bodies[0]["run"]["id"] == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "not notified of 5 new findings after 1 attempt: HTTP 500; 1 alert queued" in err
        assert "SECRET-TOKEN" not in err
        assert [a.run_id for a in queued(desk)] == [1]

        add_repost(desk, "copy-1.txt")
        assert main(["scan", "reposts", "--sources", "sources", "--state", "state.db", "--notify", receiver.url,
                     "--format", "json", "--output", "report.json"]) == 1
        assert [b["run"]["id"] for b in receiver.bodies] == [1, 1, 2]  # the missed alert first, then run 2's
        assert receiver.raw[1] == receiver.raw[0]  # exactly the payload run 1 tried to send
        assert {f["path"] for f in receiver.bodies[2]["new_findings"]} == {"reposts/copy-1.txt"}
        assert "delivered 1 alert queued by earlier runs" in capsys.readouterr().err
        assert queued(desk) == []

        assert scan(receiver.url) == 1  # nothing new, nothing queued: nothing is delivered twice
        assert len(receiver.bodies) == 3


def test_a_run_with_nothing_new_still_delivers_the_queue(desk, capsys):
    with Receiver(failures=notify.ATTEMPTS) as receiver:  # every attempt of run 1 fails
        assert scan(receiver.url) == 1
        assert len(queued(desk)) == 1
        capsys.readouterr()
        assert scan(receiver.url) == 1  # nothing new in run 2, but the queue is delivered
        assert [b["run"]["id"] for b in receiver.bodies] == [1] * (notify.ATTEMPTS + 1)
        assert queued(desk) == []
        assert capsys.readouterr().err == ""  # -q, and nothing went wrong


def test_alerts_wait_for_their_own_webhook(desk):
    """A webhook replaced by another (the old one dead) must not hold the new one's alerts back."""
    with Receiver(status=503) as old:
        assert scan(old.url) == 1
    with Receiver() as new:
        add_repost(desk, "copy-1.txt")
        assert scan(new.url) == 1
        assert [b["run"]["id"] for b in new.bodies] == [2]
    assert [(a.url, a.run_id) for a in queued(desk)] == [(old.url, 1)]


def test_a_full_queue_drops_the_oldest_alert_with_a_one_line_warning(desk, capsys, monkeypatch):
    monkeypatch.setattr(notify, "MAX_QUEUED", 2)
    monkeypatch.setattr(notify, "ATTEMPTS", 1)
    with Receiver(status=500) as receiver:
        for n in range(3):
            if n:
                add_repost(desk, f"copy-{n}.txt")
            assert scan(receiver.url) == 1
        assert [a.run_id for a in queued(desk)] == [2, 3]
        full = [line for line in capsys.readouterr().err.splitlines() if "queue full" in line]
        assert len(full) == 1 and "queue full (2 alerts): dropped the oldest alert, queued 20" in full[0]
        assert "SECRET-TOKEN" not in full[0]
        receiver.status = 200
        assert scan(receiver.url) == 1
        assert [b["run"]["id"] for b in receiver.bodies] == [1, 1, 2, 2, 3]  # run 4 delivers 2 and 3, in order
    assert queued(desk) == []


def test_an_alert_survives_a_run_interrupted_while_posting(desk, monkeypatch):
    """The alert is queued with the run it belongs to: a run killed before delivering loses nothing."""
    post = notify.post

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with Receiver() as receiver:
        monkeypatch.setattr(notify, "post", interrupted)
        assert scan(receiver.url) == 130
        assert [a.run_id for a in queued(desk)] == [1]
        monkeypatch.setattr(notify, "post", post)
        assert scan(receiver.url) == 1
        assert [b["run"]["id"] for b in receiver.bodies] == [1]
    assert queued(desk) == []


def test_a_run_that_cannot_update_the_state_still_delivers_the_queue(desk, capsys):
    """A catalogue error keeps the state as it was; earlier alerts need not wait for it."""
    with Receiver(failures=notify.ATTEMPTS) as receiver:
        assert scan(receiver.url) == 1
        (desk / "sources" / "broken.md").write_text("---\ntitle: No publisher here\n---\n\nSome text.\n", encoding="utf-8")
        assert scan(receiver.url) == 2
        assert "state not updated because the catalogue has errors" in capsys.readouterr().err
        assert [b["run"]["id"] for b in receiver.bodies] == [1] * (notify.ATTEMPTS + 1)
    assert queued(desk) == []

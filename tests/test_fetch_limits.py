"""Limits on fetching that a hostile page or link must not get around: addresses hidden in
IPv6, the request budget, the time one page may take, the catalogue folder, a damaged cache.

Like tests/test_fetch.py, against real servers on 127.0.0.1 (no mocks of requests).
"""
from __future__ import annotations

import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from compliance.cli.main import main
from compliance.fetch import FetchError, Fetcher, PageCache
from compliance.fetch.safety import address_problem, check_url
from test_fetch import COPIED, OTHER, Route, article_html, cli_scan, repost, server, settings  # noqa: F401 (server is a fixture)


@pytest.mark.parametrize("address, problem", [
    ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
    ("2002:a00:1::1", "private"),  # 6to4 of 10.0.0.1
    ("2002:a9fe:a9fe::", "link-local"),  # 6to4 of 169.254.169.254
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
    ("::ffff:169.254.169.254", "link-local"),
    ("::127.0.0.1", "loopback"),  # IPv4-compatible
    ("::a00:1", "private"),
    ("64:ff9b::7f00:1", "loopback"),  # NAT64
    ("64:ff9b::a9fe:a9fe", "link-local"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo: server 65.54.227.120, client ~0x80fffffe = 127.0.0.1
    ("2001:0:a00:1:8000:63bf:a2c9:1bdd", "private"),  # Teredo whose server is 10.0.0.1 (client 93.54.228.34)
    ("::1", "loopback"), ("::", "unspecified"),  # IPv6's own, not IPv4-compatible 0.0.0.1 and 0.0.0.0
    ("2002:5db8:d822::1", None), ("64:ff9b::5db8:d822", None), ("::ffff:93.184.216.34", None),  # 93.184.216.34 is public
])
def test_ipv6_addresses_are_judged_by_the_ipv4_address_they_carry(address, problem):
    assert address_problem(address) == problem


@pytest.mark.parametrize("host", ["2002:7f00:1::1", "64:ff9b::7f00:1", "::127.0.0.1", "2001:0:4136:e378:8000:63bf:80ff:fffe"])
def test_a_link_to_an_ipv6_form_of_loopback_is_refused_before_any_request(host):
    with pytest.raises(FetchError) as refused:
        check_url(f"http://[{host}]/")
    assert refused.value.kind == "blocked"
    assert f"{host} resolves to {host} (loopback)" in refused.value.reason


def test_every_retry_spends_one_request_of_the_budget(tmp_path, server):
    """A 503 is asked again, `retries` times; each try is a request the budget counts, and a
    budget spent stops the retries: the server never sees more requests than the budget."""
    server.routes["/busy"] = Route(503, b"busy", "text/html")
    fetcher = Fetcher(settings(tmp_path, retries=2, request_budget=1, cache_path=None))
    with pytest.raises(FetchError) as failed:
        fetcher.get(server.url("/busy"))
    assert failed.value.kind == "budget" and "request budget (1) is spent" in failed.value.reason
    assert server.hits == {"/busy": 1} and fetcher.stats.requests == 1
    fetcher = Fetcher(settings(tmp_path, retries=2, request_budget=10, cache_path=None))
    with pytest.raises(FetchError) as failed:
        fetcher.get(server.url("/busy"))
    assert failed.value.reason == "HTTP 503 Service Unavailable"  # three tries, then the answer as it is
    assert server.hits == {"/busy": 4} and fetcher.stats.requests == 3


def test_a_redirect_and_the_retries_of_its_target_share_the_budget(tmp_path, server, corpus):
    server.routes["/moved"] = Route(302, headers={"Location": "/flaky"})
    server.routes["/flaky"] = [Route(503, b"busy", "text/html"), Route(body=article_html(corpus[COPIED], "CBS News"))]
    fetcher = Fetcher(settings(tmp_path, retries=2, request_budget=3, cache_path=None))
    assert fetcher.get(server.url("/moved")).final_url == server.url("/flaky")
    assert fetcher.stats.requests == 3 and sum(server.hits.values()) == 3


def test_a_refused_connection_is_tried_again_and_each_try_is_counted(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fetcher = Fetcher(settings(tmp_path, retries=2, cache_path=None))
    with pytest.raises(FetchError) as failed:
        fetcher.get(f"http://127.0.0.1:{port}/")
    assert failed.value.kind == "connection" and fetcher.stats.requests == 3


class TrickleServer:
    """A raw TCP server on 127.0.0.1: to each connection, once the client has spoken, `head` at
    once, then `trickle` one byte every `interval` seconds, each well within the read timeout."""

    def __init__(self, head: bytes, trickle: bytes, interval: float):
        self.head, self.trickle, self.interval = head, trickle, interval
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # closed at teardown
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)  # the request, or a TLS ClientHello
                conn.sendall(self.head)
                for byte in self.trickle:
                    if self.stop.wait(self.interval):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return  # the client hung up: what the deadline is for

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


@pytest.fixture
def trickle():
    servers = []

    def start(head: bytes, trickle: bytes, interval: float = 0.25) -> TrickleServer:
        servers.append(TrickleServer(head, trickle, interval))
        return servers[-1]

    yield start
    for running in servers:
        running.close()


def fetch_within(fetcher: Fetcher, url: str, limit: float) -> FetchError:
    started = time.monotonic()
    with pytest.raises(FetchError) as failed:
        fetcher.get(url)
    assert time.monotonic() - started < limit
    return failed.value


BODY = b"<html><body><article><p>" + b"word " * 400 + b"</p></article></body></html>"


@pytest.mark.parametrize("head, trickled", [
    (b"HTTP/1.1 200 OK\r\n", b"X-Slow: " + b"a" * 200 + b"\r\n\r\n"),  # headers, a byte at a time
    (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(BODY), BODY),  # a body of known length
    (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n", BODY),  # a body that ends when the server closes
], ids=["headers", "fixed-length-body", "body-until-close"])
def test_a_page_trickled_below_the_read_timeout_ends_at_the_page_deadline(tmp_path, trickle, head, trickled):
    """One byte every 0.25 s never trips the 5 s read timeout; the page's 2 s deadline cuts it off."""
    slow = trickle(head, trickled)
    fetcher = Fetcher(settings(tmp_path, total_timeout=2.0, read_timeout=5.0, cache_path=None))
    failed = fetch_within(fetcher, f"http://127.0.0.1:{slow.port}/", 2.0 + 1.0)
    assert failed.kind == "timeout" and failed.reason == "timeout: the page took over 2 s"
    assert fetcher.stats.failures == {"timeout": 1} and fetcher.stats.requests == 1


def test_a_tls_handshake_trickled_below_the_timeouts_ends_at_the_page_deadline(tmp_path, trickle):
    """A TLS record announced 16,000 bytes long, sent a byte at a time: the handshake never
    fails on its own. The socket urllib3 connected is detached by the TLS wrapping; the
    deadline still cuts the connection."""
    slow = trickle(b"\x16\x03\x03\x3e\x80", b"\x02" * 16_000)
    fetcher = Fetcher(settings(tmp_path, total_timeout=2.0, connect_timeout=5.0, read_timeout=5.0, cache_path=None))
    failed = fetch_within(fetcher, f"https://127.0.0.1:{slow.port}/", 2.0 + 1.0)
    assert failed.reason == "timeout: the page took over 2 s"


def test_one_deadline_covers_every_redirect_hop(tmp_path, server, corpus):
    """Each hop answers in 0.6 s, well within the read timeout; six of them are not within 2 s."""
    for n in range(5):
        server.routes[f"/hop{n}"] = Route(302, headers={"Location": f"/hop{n + 1}"}, delay=0.6)
    server.routes["/hop5"] = Route(body=article_html(corpus[COPIED], "CBS News"), delay=0.6)
    fetcher = Fetcher(settings(tmp_path, total_timeout=2.0, read_timeout=5.0, cache_path=None))
    failed = fetch_within(fetcher, server.url("/hop0"), 2.0 + 1.0)
    assert failed.reason == "timeout: the page took over 2 s"
    assert server.hits == {"/hop0": 1, "/hop1": 1, "/hop2": 1, "/hop3": 1}  # the fourth hop was cut off
    # the connection the deadline cut does not spoil the next page on the same fetcher
    assert fetcher.get(server.url("/hop5")).status == 200


def test_retries_stop_when_their_backoff_would_outlast_the_page(tmp_path, server):
    server.routes["/busy"] = Route(503, b"busy", "text/html")
    fetcher = Fetcher(settings(tmp_path, total_timeout=2.0, retries=5, backoff=0.5, cache_path=None))
    failed = fetch_within(fetcher, server.url("/busy"), 2.0)
    assert failed.reason == "HTTP 503 Service Unavailable"  # the answer as it is, not a wait past the deadline
    assert server.hits == {"/busy": 3}  # at 0, 0.5 and 1.5 s; the next wait (2 s) would end past the deadline


@pytest.mark.parametrize("allowed", [False, True], ids=["checked-before-the-request", "looked-up-at-connect"])
def test_a_slow_name_lookup_ends_at_the_page_deadline(tmp_path, server, corpus, monkeypatch, allowed):
    """getaddrinfo takes no timeout; a name server that answers in 30 s must not hold the page
    that long. (The resolver is stood in for; the server and requests are real.)"""
    server.routes["/story"] = Route(body=article_html(corpus[COPIED], "CBS News"))
    real = socket.getaddrinfo
    answered = threading.Event()

    def slow_name_server(host, *args, **kwargs):
        if host == "slow.test":
            answered.wait(30)
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow_name_server)
    allow = {"slow.test"} if allowed else set()
    fetcher = Fetcher(settings(tmp_path, total_timeout=1.0, allow_hosts=frozenset(allow), cache_path=None))
    try:
        failed = fetch_within(fetcher, f"http://slow.test:{server.port}/story", 1.0 + 1.0)
    finally:
        answered.set()  # let the abandoned lookup finish
    assert failed.reason == "timeout: the page took over 1 s" and server.hits == {}


def add_args(server, tmp_path: Path, catalogue: Path, source_id: str) -> list[str]:
    return ["sources", "add", server.url("/story"), "--catalogue", str(catalogue), "--allow-host", "127.0.0.1",
            "--http-cache", str(tmp_path / "cache.sqlite"), "--id", source_id]


@pytest.mark.parametrize("source_id", [
    "../../escaped", "..", ".", "", "{tmp}/escaped-absolute", "sub/escaped", "sub\\escaped",
    ".hidden", "new\nline", "caf\u00e9",
])
def test_sources_add_refuses_an_id_that_is_not_a_plain_file_name(tmp_path, server, corpus, capsys, source_id):
    server.routes["/story"] = Route(body=article_html(corpus[COPIED], "CBS News"))
    catalogue = tmp_path / "desk" / "sources"
    source_id = source_id.format(tmp=tmp_path)  # an absolute path, in a folder the test owns
    before = sorted(tmp_path.rglob("*"))
    assert main(add_args(server, tmp_path, catalogue, source_id)) == 2
    assert capsys.readouterr().err == (
        "compliance: error: --id must be a plain file name of ASCII letters, digits, '-', '_' and '.', "
        f"not starting with a dot (not {source_id!r})\n")
    assert sorted(tmp_path.rglob("*")) == before  # "../../escaped" would be tmp_path/escaped.md
    assert server.hits == {}  # refused before fetching


def test_sources_add_takes_a_plain_id_with_dots(tmp_path, server, corpus):
    server.routes["/story"] = Route(body=article_html(corpus[COPIED], "CBS News"))
    catalogue = tmp_path / "sources"
    assert main(add_args(server, tmp_path, catalogue, "cbs.rescue-2024_v2")) == 0
    assert [p.name for p in catalogue.iterdir()] == ["cbs.rescue-2024_v2.md"]


@pytest.mark.parametrize("target_exists", [False, True], ids=["dangling", "to-a-file"])
def test_sources_add_never_writes_through_a_planted_symbolic_link(tmp_path, server, corpus, capsys, target_exists):
    server.routes["/story"] = Route(body=article_html(corpus[COPIED], "CBS News"))
    catalogue = tmp_path / "sources"
    catalogue.mkdir()
    outside = tmp_path / "outside.txt"
    if target_exists:
        outside.write_text("not yours\n", encoding="utf-8")
    (catalogue / "planted.md").symlink_to(outside)
    assert main(add_args(server, tmp_path, catalogue, "planted")) == 2
    assert capsys.readouterr().err == (
        f"compliance: error: {catalogue / 'planted.md'}: a symbolic link is in the way; not followed, not overwritten\n")
    assert (outside.read_text(encoding="utf-8") == "not yours\n") if target_exists else not outside.exists()


def damage(cache: Path, how: str) -> None:
    if how == "pages-overwritten":  # the first page (the header and the schema) left whole
        size = cache.stat().st_size
        assert size > 3 * 4096
        with cache.open("r+b") as out:
            out.seek(4096)
            out.write(bytes(range(256)) * ((size - 4096) // 256 + 1))
    elif how == "file-overwritten":
        cache.write_bytes(b"this is no database " * 1000)
    elif how == "table-replaced":
        with sqlite3.connect(cache) as db:
            db.executescript("DROP TABLE pages; CREATE TABLE pages (something_else TEXT);")
        db.close()


def three_reposts(tmp_path: Path, server, corpus) -> None:
    for n in range(3):
        server.routes[f"/story{n}"] = Route(body=article_html(corpus[COPIED], "CBS News"))
        repost(tmp_path / "reposts", corpus[COPIED], f"Source: CBS News {server.url(f'/story{n}')}", f"story{n}.txt")


@pytest.mark.parametrize("how", ["pages-overwritten", "file-overwritten", "table-replaced"])
def test_a_damaged_cache_is_one_warning_and_the_scan_goes_on_without_it(tmp_path, server, corpus, capsys, how):
    three_reposts(tmp_path, server, corpus)
    code, _ = cli_scan(tmp_path, "--fetch")
    assert code == 0 and sum(server.hits.values()) == 3
    damage(tmp_path / "cache.sqlite", how)
    capsys.readouterr()
    code, report = cli_scan(tmp_path, "--fetch")
    warnings = [line for line in capsys.readouterr().err.splitlines() if "HTTP cache" in line]
    assert len(warnings) == 1 and warnings[0].startswith(f"compliance: warning: {tmp_path / 'cache.sqlite'}: ")
    assert warnings[0].endswith("; going on without it")
    assert code == 0 and sum(server.hits.values()) == 6  # all three fetched again, live
    for document in report["documents"]:
        assert document["findings"] == [] and document["source"]["publisher"] == "CBS News"


def test_a_damaged_cache_offline_is_one_warning_and_its_pages_are_missing(tmp_path, server, corpus, capsys):
    three_reposts(tmp_path, server, corpus)
    cli_scan(tmp_path, "--fetch")
    damage(tmp_path / "cache.sqlite", "pages-overwritten")
    capsys.readouterr()
    code, report = cli_scan(tmp_path, "--offline")
    assert len([line for line in capsys.readouterr().err.splitlines() if "HTTP cache" in line]) == 1
    assert sum(server.hits.values()) == 3  # nothing fetched
    for document in report["documents"]:
        assert [f["rule"] for f in document["findings"]] == ["attribution-unverified"]
        assert "not in the HTTP cache" in document["findings"][0]["message"]


def test_a_cache_table_dropped_while_in_use_is_given_up_once(tmp_path, server, corpus, capsys):
    server.routes["/a"] = Route(body=article_html(corpus[COPIED], "CBS News"))
    server.routes["/b"] = Route(body=article_html(corpus[OTHER], "The Hill"))
    path = tmp_path / "cache.sqlite"
    fetcher = Fetcher(settings(tmp_path, cache_path=path), PageCache(path))
    fetcher.get(server.url("/a"))
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE pages")
    db.close()
    for _ in range(2):
        assert fetcher.get(server.url("/a")).status == 200 and fetcher.get(server.url("/b")).status == 200
    fetcher.close()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such table: pages" in err
    assert server.hits == {"/a": 3, "/b": 2}


def test_a_cache_that_cannot_be_opened_at_all_is_still_an_error(tmp_path, server, corpus, capsys):
    """Not damage but a wrong --http-cache (here a folder): the user's to fix, so the scan stops."""
    three_reposts(tmp_path, server, corpus)
    code = main(["scan", str(tmp_path / "reposts"), "-q", "--fetch", "--http-cache", str(tmp_path), "--allow-host", "127.0.0.1"])
    assert code == 2 and server.hits == {}
    assert capsys.readouterr().err == f"compliance: error: {tmp_path}: cannot open the HTTP cache: unable to open database file\n"

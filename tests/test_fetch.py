"""Verifying credited pages online, against a real HTTP server on 127.0.0.1 (no mocks of requests).

The server counts the requests it gets, so the tests can tell a cache hit from a fetch and
prove that a blocked address was never requested.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from compliance.checks import load_pack
from compliance.cli.main import main
from compliance.fetch import FetchError, FetchSettings, Fetcher
from compliance.fetch.safety import address_problem, check_url
from compliance.pipeline import scan
from conftest import DISCLAIMER, paragraphs, write_txt

COPIED = "sh-2c46804d9db4"  # CBS News: the repost copies it
OTHER = "sh-156770d676ce"  # The Hill: a different story


class Route:
    def __init__(self, status=200, body=b"", content_type="text/html; charset=utf-8", headers=None, delay=0.0,
                 declare_length=True, etag=None):
        self.status, self.body, self.content_type = status, body, content_type
        self.headers, self.delay, self.declare_length, self.etag = headers or {}, delay, declare_length, etag


class Server:
    """A threaded HTTP server on 127.0.0.1 serving `routes`; `hits[path]` counts requests, `not_modified` 304s."""

    def __init__(self):
        self.routes: dict[str, Route | list[Route]] = {}
        self.hits: dict[str, int] = {}
        self.not_modified = 0
        self.user_agents: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                server.user_agents.append(self.headers.get("User-Agent", ""))
                route = server.routes.get(self.path, Route(404, b"not here", "text/plain"))
                if isinstance(route, list):  # successive answers: the last one repeats
                    route = route[min(server.hits[self.path], len(route)) - 1]
                try:
                    if route.delay:
                        time.sleep(route.delay)
                    if route.etag and self.headers.get("If-None-Match") == route.etag:
                        server.not_modified += 1
                        self.send_response(304)
                        self.end_headers()
                        return
                    self.send_response(route.status)
                    self.send_header("Content-Type", route.content_type)
                    if route.etag:
                        self.send_header("ETag", route.etag)
                    for name, value in route.headers.items():
                        self.send_header(name, value)
                    if route.declare_length:
                        self.send_header("Content-Length", str(len(route.body)))
                    else:
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    self.end_headers()
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def server():
    running = Server()
    running.thread.start()
    yield running
    running.httpd.shutdown()
    running.httpd.server_close()


def article_html(article: dict, site: str) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs(article))
    return (f"<!doctype html><html><head><title>{article['title']}</title>"
            f'<meta property="og:site_name" content="{site}"><meta name="author" content="A. Reporter">'
            f"</head><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
            f"<article><h1>{article['title']}</h1>{body}</article><footer>© {site}</footer></body></html>").encode("utf-8")


def repost(folder: Path, article: dict, credit: str, name: str = "story.txt") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_txt(folder, name, article["title"], [*paragraphs(article), credit, DISCLAIMER])


def settings(tmp_path: Path, **changes) -> FetchSettings:
    base = FetchSettings(enabled=True, allow_hosts=frozenset({"127.0.0.1"}), retries=1, backoff=0.0,
                         read_timeout=5.0, cache_path=tmp_path / "cache" / "http.sqlite")
    return replace(base, **changes)


def scan_one(tmp_path: Path, fetch: FetchSettings, sources: list[Path] | None = None):
    result = scan([tmp_path / "reposts"], sources or [], load_pack(), fetch=fetch)
    [document] = result.documents
    return document, result


def rules(document) -> list[str]:
    return [f.rule for f in document.findings]


def finding(document, rule: str):
    [found] = [f for f in document.findings if f.rule == rule]
    return found


def test_a_credited_page_the_repost_copies_becomes_its_match(tmp_path, server, corpus):
    server.routes["/story"] = Route(body=article_html(corpus[COPIED], "CBS News"))
    repost(tmp_path / "reposts", corpus[COPIED], f"Source: CBS News {server.url('/story')}")
    document, result = scan_one(tmp_path, settings(tmp_path))
    assert document.match is not None
    assert document.match.source.origin == server.url("/story")
    assert document.match.source.publisher == "CBS News"
    assert document.match.containment > 0.9
    assert rules(document) == []
    assert result.fetch_stats.requests == 1
    assert server.user_agents[0].startswith("compliance/")


def test_a_credited_page_that_is_not_what_the_repost_copies_is_a_mismatch(tmp_path, server, corpus):
    server.routes["/other"] = Route(body=article_html(corpus[OTHER], "The Hill"))
    repost(tmp_path / "reposts", corpus[COPIED], f"Source: The Hill {server.url('/other')}")
    document, _ = scan_one(tmp_path, settings(tmp_path))
    assert document.match is None
    mismatch = finding(document, "attribution-mismatch")
    assert "is not what that page says" in mismatch.message
    assert mismatch.evidence["url"] == server.url("/other")
    assert mismatch.evidence["containment"] < 0.1
    assert mismatch.line == document.document.blocks[-2].line  # the credit line


def test_the_catalogue_wins_and_a_wrong_credited_page_is_still_reported(tmp_path, server, corpus):
    server.routes["/other"] = Route(body=article_html(corpus[OTHER], "CBS News"))
    repost(tmp_path / "reposts", corpus[COPIED], f"Source: CBS News {server.url('/other')}")
    document, _ = scan_one(tmp_path, settings(tmp_path), [Path(__file__).parent / "data" / "corpus.jsonl"])
    assert document.match.source.id == COPIED
    assert rules(document) == ["attribution-mismatch"]
    assert "is not what that page says" in document.findings[0].message


@pytest.mark.parametrize("route, reason", [
    (Route(404, b"gone", "text/html"), "page not found (HTTP 404)"),
    (Route(500, b"oops", "text/html"), "HTTP 500"),
    (Route(body=b"%PDF-1.7 ...", content_type="application/pdf"), "not HTML or text (application/pdf)"),
    (Route(body=b"<p>" + b"word " * 5000 + b"</p>"), "too large: 25,007 bytes, the limit is 10,000"),
    (Route(body=b"<p>" + b"word " * 5000 + b"</p>", declare_length=False), "too large: over 10,000 bytes"),
    (Route(body=b"<html><body><p>Please enable JavaScript.</p></body></html>"), "no article text found on the page"),
])
def test_a_credited_page_that_cannot_be_had_is_unverified_with_the_reason(tmp_path, server, corpus, route, reason):
    server.routes["/page"] = route
    repost(tmp_path / "reposts", corpus[COPIED], f"Source: CBS News {server.url('/page')}")
    document, _ = scan_one(tmp_path, settings(tmp_path, max_bytes=10_000))
    unverified = finding(document, "attribution-unverified")
    assert unverified.severity.value == "warning"
    assert reason in unverified.message
    assert unverified.evidence["url"] == server.url("/page")
    assert "attribution-mismatch" not in rules(document)


def test_a_server_slower_than_the_read_timeout_is_unverified(tmp_path, server, corpus):
    server.routes["/slow"] = Route(body=article_html(corpus[COPIED], "CBS News"), delay=1.5)
    repost(tmp_path / "reposts", corpus[COPIED], f"Source: CBS News {server.url('/slow')}")
    started = time.monotonic()
    document, _ = scan_one(tmp_path, settings(tmp_path, read_timeout=0.3))
    assert time.monotonic() - started < 1.5
    assert "timeout: no answer within 0.3 s" in finding(document, "attribution-unverified").message


def test_server_errors_are_retried(tmp_path, server, corpus):
    server.routes["/flaky"] = [Route(503, b"busy", "text/html"), Route(body=article_html(corpus[COPIED], "CBS News"))]
    repost(tmp_path / "reposts", corpus[COPIED], f"Source: CBS News {server.url('/flaky')}")
    document, _ = scan_one(tmp_path, settings(tmp_path))
    assert server.hits["/flaky"] == 2
    assert document.match is not None and rules(document) == []


@pytest.mark.parametrize("target, problem", [
    ("http://10.0.0.1/admin", "10.0.0.1 (private)"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 (link-local)"),
    ("http://localhost:{port}/story", "(loopback)"),  # the test server itself, under a name that is not allowed
])
def test_a_redirect_to_a_private_address_is_blocked_before_it_is_requested(tmp_path, server, corpus, target, problem):
    server.routes["/story"] = Route(body=article_html(corpus[COPIED], "CBS News"))
    server.routes["/moved"] = Route(302, b"", headers={"Location": target.format(port=server.port)})
    repost(tmp_path / "reposts", corpus[COPIED], f"Source: CBS News {server.url('/moved')}")
    document, _ = scan_one(tmp_path, settings(tmp_path))
    message = finding(document, "attribution-unverified").message
    assert "blocked address" in message and problem in message
    assert server.hits == {"/moved": 1}  # the redirect target was never requested


def test_a_link_to_the_scanning_machine_is_blocked_unless_its_host_is_allowed(tmp_path, server, corpus):
    server.routes["/story"] = Route(body=article_html(corpus[COPIED], "CBS News"))
    repost(tmp_path / "reposts", corpus[COPIED], f"Source: CBS News {server.url('/story')}")
    document, _ = scan_one(tmp_path, settings(tmp_path, allow_hosts=frozenset()))
    assert "127.0.0.1 resolves to 127.0.0.1 (loopback)" in finding(document, "attribution-unverified").message
    assert server.hits == {}


def test_redirects_are_followed_a_few_times_only(tmp_path, server, corpus):
    server.routes["/story"] = Route(body=article_html(corpus[COPIED], "CBS News"))
    server.routes["/a"] = Route(301, headers={"Location": "/story"})
    for n in range(3):
        server.routes[f"/loop{n}"] = Route(302, headers={"Location": f"/loop{(n + 1) % 3}"})
    repost(tmp_path / "reposts", corpus[COPIED], f"Source: CBS News {server.url('/a')}")
    assert scan_one(tmp_path, settings(tmp_path))[0].match is not None
    repost(tmp_path / "reposts", corpus[COPIED], f"Source: CBS News {server.url('/loop0')}")
    document, _ = scan_one(tmp_path, settings(tmp_path, max_redirects=4))
    assert "more than 4 redirects" in finding(document, "attribution-unverified").message


def test_the_second_scan_reads_the_cache_and_an_old_entry_is_revalidated(tmp_path, server, corpus):
    server.routes["/story"] = Route(body=article_html(corpus[COPIED], "CBS News"), etag='"v1"')
    repost(tmp_path / "reposts", corpus[COPIED], f"Source: CBS News {server.url('/story')}")
    first, _ = scan_one(tmp_path, settings(tmp_path))
    second, result = scan_one(tmp_path, settings(tmp_path))
    assert server.hits["/story"] == 1  # the second scan did not fetch
    assert result.fetch_stats.cache_hits == 1 and result.fetch_stats.requests == 0
    assert second.match.source.origin == first.match.source.origin == server.url("/story")
    third, result = scan_one(tmp_path, settings(tmp_path, cache_lifetime=0))
    assert server.hits["/story"] == 2 and server.not_modified == 1  # a conditional request, answered 304
    assert third.match is not None and result.fetch_stats.revalidated == 1


def test_a_missing_page_is_remembered_but_a_server_error_is_not(tmp_path, server, corpus):
    server.routes["/gone"] = Route(404, b"gone", "text/html")
    server.routes["/down"] = Route(502, b"bad gateway", "text/html")
    repost(tmp_path / "reposts", corpus[COPIED], f"Source: CBS News {server.url('/gone')} and {server.url('/down')}")
    for _ in range(2):
        document, _ = scan_one(tmp_path, settings(tmp_path, retries=0))
        assert len([f for f in document.findings if f.rule == "attribution-unverified"]) == 2
    assert server.hits == {"/gone": 1, "/down": 2}


def test_the_request_budget_caps_a_scan(tmp_path, server, corpus):
    for n in range(3):
        server.routes[f"/p{n}"] = Route(body=article_html(corpus[OTHER], "The Hill"))
    links = " and ".join(server.url(f"/p{n}") for n in range(3))
    repost(tmp_path / "reposts", corpus[COPIED], f"Source: The Hill {links}")
    document, result = scan_one(tmp_path, settings(tmp_path, request_budget=2))
    assert sum(server.hits.values()) == 2 and result.fetch_stats.requests == 2
    assert "request budget (2) is spent" in finding(document, "attribution-unverified").message


def test_fetching_is_off_unless_asked_for(tmp_path, server, corpus):
    repost(tmp_path / "reposts", corpus[COPIED], f"Source: CBS News {server.url('/story')}")
    document, result = scan_one(tmp_path, FetchSettings())
    assert server.hits == {} and result.fetch_stats is None and rules(document) == []


def cli_scan(tmp_path: Path, *flags: str) -> tuple[int, dict]:
    output = tmp_path / "report.json"
    code = main(["scan", str(tmp_path / "reposts"), "--format", "json", "--output", str(output), "-q",
                 "--http-cache", str(tmp_path / "cache.sqlite"), "--allow-host", "127.0.0.1", *flags])
    return code, json.loads(output.read_text(encoding="utf-8"))


def test_offline_scans_use_the_cache_only(tmp_path, server, corpus):
    server.routes["/story"] = Route(body=article_html(corpus[COPIED], "CBS News"))
    repost(tmp_path / "reposts", corpus[COPIED], f"Source: CBS News {server.url('/story')}")
    code, report = cli_scan(tmp_path, "--offline")
    [document] = report["documents"]
    assert server.hits == {}
    assert [f["rule"] for f in document["findings"]] == ["attribution-unverified"]
    assert "not in the HTTP cache" in document["findings"][0]["message"]
    assert code == 0  # a warning does not fail the default gate
    code, report = cli_scan(tmp_path, "--fetch")
    assert server.hits == {"/story": 1} and report["documents"][0]["source"]["publisher"] == "CBS News"
    code, report = cli_scan(tmp_path, "--offline", "--cache-lifetime", "0")  # stale entries are fine offline
    assert server.hits == {"/story": 1}
    assert report["documents"][0]["source"]["url"] == server.url("/story")
    assert report["documents"][0]["findings"] == [] and code == 0


def test_sources_add_writes_a_catalogue_file_and_never_overwrites(tmp_path, server, corpus, capsys):
    server.routes["/story"] = Route(body=article_html(corpus[COPIED], "CBS News"))
    catalogue = tmp_path / "sources"
    args = ["sources", "add", server.url("/story"), "--catalogue", str(catalogue), "--allow-host", "127.0.0.1",
            "--http-cache", str(tmp_path / "cache.sqlite"), "--id", "cbs-rescue"]
    assert main(args) == 0
    written = catalogue / "cbs-rescue.md"
    assert f"to {written}" in capsys.readouterr().out
    text = written.read_text(encoding="utf-8")
    assert text.startswith("---\nid: cbs-rescue\npublisher: CBS News\n")
    written.write_text(text.replace("publisher: CBS News", "publisher: CBS News Digital"), encoding="utf-8")
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"compliance: error: {written}: already in the catalogue; not overwritten (pass --id for another name)"
    assert "publisher: CBS News Digital" in written.read_text(encoding="utf-8")
    # the saved source is a catalogue source like any other: the repost matches it without the web
    repost(tmp_path / "reposts", corpus[COPIED], "Source: CBS News")
    document, _ = scan_one(tmp_path, FetchSettings(), [catalogue])
    assert document.match.source.id == "cbs-rescue" and rules(document) == []
    assert server.hits == {"/story": 1}  # the second add was refused from the cache, before writing


def test_sources_add_failure_is_one_line(tmp_path, server, capsys):
    code = main(["sources", "add", server.url("/nothing"), "--catalogue", str(tmp_path / "s"),
                 "--allow-host", "127.0.0.1", "--http-cache", str(tmp_path / "c.sqlite")])
    assert code == 2
    assert capsys.readouterr().err.strip() == f"compliance: error: {server.url('/nothing')}: cannot add the page: page not found (HTTP 404)"
    assert not (tmp_path / "s").exists()


def test_a_text_page_is_read_as_it_is(tmp_path, server, corpus):
    server.routes["/story.txt"] = Route(body=corpus[COPIED]["text"].encode("utf-8"), content_type="text/plain; charset=utf-8")
    repost(tmp_path / "reposts", corpus[COPIED], f"Source: CBS News {server.url('/story.txt')}")
    document, _ = scan_one(tmp_path, settings(tmp_path))
    assert document.match is not None and rules(document) == []


@pytest.mark.parametrize("address, problem", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:10.1.2.3", "private"), ("192.168.1.10", "private"),
    ("172.16.0.1", "private"), ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("224.0.0.1", "multicast"),
    ("0.0.0.0", "unspecified"), ("100.64.0.1", "not public"), ("93.184.216.34", None), ("2606:4700::1111", None),
])
def test_address_problems(address, problem):
    assert address_problem(address) == problem


@pytest.mark.parametrize("url, reason", [
    ("ftp://example.com/story", "only http and https links are fetched, not ftp"),
    ("file:///etc/passwd", "only http and https links are fetched, not file"),
    ("http://user:secret@127.0.0.1/", "links with a user name or password are not fetched"),
    ("http://[::1]:8080/", "blocked address: ::1 resolves to ::1 (loopback)"),
])
def test_unsafe_links_are_refused_before_any_request(url, reason):
    with pytest.raises(FetchError) as refused:
        check_url(url)
    assert reason in refused.value.reason


def test_concurrent_requests_to_one_host_are_limited(tmp_path, server, corpus):
    """Four threads share one fetcher allowed 2 requests at a time per host: never more run at once."""
    server.routes.update({f"/s{n}": Route(body=article_html(corpus[OTHER], "The Hill"), delay=0.2) for n in range(4)})
    fetcher = Fetcher(settings(tmp_path, per_host=2, cache_path=None))
    running, peak, lock = 0, 0, threading.Lock()
    original = fetcher._request

    def counting(*args):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        try:
            response = original(*args)
            response.content  # read while holding the slot
            return response
        finally:
            with lock:
                running -= 1

    fetcher._request = counting
    threads = [threading.Thread(target=fetcher.get, args=(server.url(f"/s{n}"),)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 2 and sum(server.hits.values()) == 4


def test_the_connection_itself_refuses_a_private_address(tmp_path, server, corpus, monkeypatch):
    """If a name resolved to a public address when checked and to a private one when connecting
    (DNS rebinding), the connect-time guard still refuses: here the check is skipped altogether."""
    import compliance.fetch.client as client

    monkeypatch.setattr(client, "check_url", lambda url, allow_hosts=(): None)
    server.routes["/story"] = Route(body=article_html(corpus[COPIED], "CBS News"))
    repost(tmp_path / "reposts", corpus[COPIED], f"Source: CBS News {server.url('/story')}")
    document, _ = scan_one(tmp_path, settings(tmp_path, allow_hosts=frozenset()))
    assert "blocked address: 127.0.0.1 resolves to 127.0.0.1 (loopback)" in finding(document, "attribution-unverified").message
    assert server.hits == {}


def test_fetching_can_be_configured_and_a_bad_setting_is_one_line(tmp_path, server, corpus, capsys):
    server.routes["/story"] = Route(body=article_html(corpus[COPIED], "CBS News"))
    repost(tmp_path / "reposts", corpus[COPIED], f"Source: CBS News {server.url('/story')}")
    config = tmp_path / "compliance.yaml"
    config.write_text("fetch:\n  allow_hosts: [127.0.0.1]\n  cache: state/pages.sqlite\n  cache_lifetime: 1d\n", encoding="utf-8")
    output = tmp_path / "report.json"
    args = ["scan", str(tmp_path / "reposts"), "--config", str(config), "--format", "json", "--output", str(output), "-q"]
    assert main(args) == 0
    assert json.loads(output.read_text(encoding="utf-8"))["documents"][0]["source"]["publisher"] == "CBS News"
    assert (tmp_path / "state" / "pages.sqlite").is_file() and server.hits == {"/story": 1}
    capsys.readouterr()
    config.write_text("fetch:\n  cache_lifetime: forever\n", encoding="utf-8")
    assert main(args) == 2
    assert capsys.readouterr().err.strip() == (
        f"compliance: error: {config}:2: fetch: a duration is seconds or a number with s, m, h or d (e.g. 7d), not 'forever'")

"""Limits on fetching that a hostile page or link must not get around: addresses hidden in
IPv6, the request budget, the time one page may take, the catalogue folder, a damaged cache.

Like tests/test_fetch.py, against real servers on 127.0.0.1 (no mocks of requests).
"""
from __future__ import annotations

import socket

import pytest

from compliance.fetch import FetchError, Fetcher
from compliance.fetch.safety import address_problem, check_url
from test_fetch import COPIED, Route, article_html, server, settings  # noqa: F401 (server is a fixture)


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

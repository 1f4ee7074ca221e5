"""Limits on fetching that a hostile page or link must not get around: addresses hidden in
IPv6, the request budget, the time one page may take, the catalogue folder, a damaged cache.

Like tests/test_fetch.py, against real servers on 127.0.0.1 (no mocks of requests).
"""
from __future__ import annotations

import pytest

from compliance.fetch import FetchError
from compliance.fetch.safety import address_problem, check_url


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

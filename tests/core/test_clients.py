"""Who a request comes from (:mod:`filmgraph.core.clients`): the address, or what a trusted proxy saw."""

from __future__ import annotations

from filmgraph.core.clients import KEPT_HEADERS, _client_key, client_key, parse_networks


def test_the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() -> None:
    proxies = parse_networks(["10.0.0.0/8", "::1"])
    assert client_key("192.0.2.7", ["198.51.100.1"], [], proxies) == "192.0.2.7"  # not a proxy: its header is not believed
    assert client_key("10.0.0.2", ["198.51.100.1"], [], proxies) == "198.51.100.1"
    # A client's own X-Forwarded-For is kept by the proxy on the left: the first untrusted hop from the right counts.
    assert client_key("10.0.0.2", ["203.0.113.9, 198.51.100.1, 10.0.0.3"], [], proxies) == "198.51.100.1"
    assert client_key("::1", [], ['for="[2001:db8::1]:4711";proto=https'], proxies) == "2001:db8::/64"
    assert client_key("10.0.0.2", ["not an address"], [], proxies) == "10.0.0.2"
    assert client_key("10.0.0.2", [], [], proxies) == "10.0.0.2"
    assert client_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert client_key("2001:db8:1:2:3:4:5:6") == client_key("2001:db8:1:2::9") == "2001:db8:1:2::/64"
    assert client_key(None) == client_key("garbage") == "unknown"


def test_client_keys_are_kept_for_short_headers_only_and_at_most_4096() -> None:
    """The key of a request is kept (parsing addresses was a third of a cached answer's time), but a client's long
    forwarding headers are not: each distinct one would be memory the client chooses to fill."""
    trusted = parse_networks(["127.0.0.1"])
    _client_key.cache_clear()
    long_chain = ", ".join(f"10.1.{i // 250}.{i % 250}" for i in range(40))
    assert len(long_chain) > KEPT_HEADERS
    for i in range(300):
        assert client_key("127.0.0.1", [f"{long_chain}, 10.9.{i // 250}.{i % 250}"], (), trusted) == f"10.9.{i // 250}.{i % 250}"
    assert _client_key.cache_info().currsize == 0
    for i in range(5000):
        assert client_key("127.0.0.1", [f"10.8.{i // 250}.{i % 250}"], (), trusted) == f"10.8.{i // 250}.{i % 250}"
    assert _client_key.cache_info().currsize == 4096
    assert client_key("127.0.0.1", ["10.8.19.249"], (), trusted) == "10.8.19.249"  # still read right once forgotten or kept

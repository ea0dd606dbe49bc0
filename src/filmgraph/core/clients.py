"""Who a request comes from: its address, or behind a trusted proxy the address the proxy saw.

A client is its address (an IPv6 address counts by its /64, the block one
subscriber usually has). Behind a proxy listed in ``trusted_proxies`` the
address is read from X-Forwarded-For (else Forwarded), from the right: the
first address that is not a trusted proxy is the client. The fair shares of
query time (:mod:`filmgraph.sparql.admission`) and the front's cap on requests
in flight per client (:mod:`filmgraph.web.asgi`) both count by it.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or networks (``10.0.0.1``, ``10.0.0.0/8``, ``::1``) as networks; raise ValueError on a bad one."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().strip('"')
    if text.startswith("["):  # [v6]:port (Forwarded) or [v6]
        text = text[1 : text.find("]")] if "]" in text else text[1:]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        found = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


_FORWARDED_FOR = re.compile(r'(?:^|[;,\s])for=("[^"]*"|[^;,\s]*)', re.IGNORECASE)


def client_key(remote_addr: str | None, forwarded_for: Sequence[str] = (), forwarded: Sequence[str] = (), trusted: Sequence[Network] = ()) -> str:
    """The client a request counts against: its address, or behind a trusted proxy the address the proxy saw.

    The proxies' own addresses are skipped from the right of the chain; the first address that is not a
    trusted proxy is the client (an address a client wrote further left is not believed).
    """
    key = (remote_addr or "", tuple(forwarded_for), tuple(forwarded), tuple(trusted))
    if sum(map(len, key[1])) + sum(map(len, key[2])) > KEPT_HEADERS:
        return _client_key.__wrapped__(*key)  # a client's long headers are not kept (its own memory to fill)
    return _client_key(*key)


KEPT_HEADERS = 256
"""Characters of forwarding headers up to which a request's client key is kept (4,096 keys at most)."""


@functools.lru_cache(maxsize=4096)
def _client_key(remote_addr: str, forwarded_for: tuple[str, ...], forwarded: tuple[str, ...], trusted: tuple[Network, ...]) -> str:
    """:func:`client_key`, kept for the addresses and headers seen last: parsing them was a third of a cached answer's time."""
    peer = _address(remote_addr)
    if peer is not None and trusted and _trusted(peer, trusted):
        chain = [a for h in forwarded_for for a in h.split(",")] or [m.group(1) for h in forwarded for m in _FORWARDED_FOR.finditer(h)]
        hops = [_address(a) for a in chain]
        for hop in reversed(hops):
            if hop is None:
                break  # unreadable (an obfuscated Forwarded node, garbage): the last trusted hop is all we know
            peer = hop
            if not _trusted(hop, trusted):
                break
    if peer is None:
        return "unknown"
    if isinstance(peer, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((peer, 64), strict=False))
    return str(peer)


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == n.version and address in n for n in trusted)

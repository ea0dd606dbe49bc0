"""The allowed values of the settings: one checker per kind (an integer range, seconds, URLs, hosts, files...).

Each row of the settings table (:mod:`.settings`) names its checker; :func:`.settings.load` runs them all before a
command starts anything, and a value outside what its checker allows stops it with one line naming the setting.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Allowed:
    """What values a setting takes: ``text`` is shown in the table and in errors; ``problem`` says what is wrong, if anything."""

    text: str
    problem: Callable[[Any], str | None] = lambda value: None

    def reason(self, value: Any) -> str | None:
        """Why ``value`` is not allowed (a phrase), or None when it is."""
        found = self.problem(value)
        if found is None:
            return None
        return found or f"must be {self.text}"


def integer(low: int, high: int, zero: str = "") -> Allowed:
    text = f"an integer from {low} to {high}" + (f" ({zero})" if zero else "")

    def problem(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return ""
        return None

    return Allowed(text, problem)


def cache_mb(high: int) -> Allowed:
    def problem(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
            return ""
        memory = memory_mb()
        if memory and value > memory:
            return f"more than this machine's memory ({memory} MiB)"
        return None

    return Allowed(f"an integer from 0 (off) to {high}, and at most the machine's memory in MiB", problem)


def memory_mb() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError, AttributeError):
        return 0


def seconds(high: float) -> Allowed:
    def problem(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 < value <= high:
            return ""
        return None

    return Allowed(f"a number of seconds above 0 and at most {high:g}", problem)


def seconds_or_off(high: float) -> Allowed:
    def problem(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 <= value <= high:
            return ""
        return None

    return Allowed(f"a number of seconds from 0 (off) to {high:g}", problem)


def networks() -> Allowed:
    text = "empty, or IP addresses or networks (10.0.0.0/8, ::1) separated by commas"

    def problem(value: Any) -> str | None:
        if not isinstance(value, tuple):
            return ""
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                return f"{item!r} is not an IP address or network (must be {text})"
        return None

    return Allowed(text, problem)


def one_of(*choices: str) -> Allowed:
    return Allowed(" or ".join(choices), lambda value: None if value in choices else "")


def boolean() -> Allowed:
    return Allowed("yes or no (also 1/true/on, 0/false/off)", lambda value: None if isinstance(value, bool) else "")


# Characters that cannot stand in an IRI written in Turtle or SPARQL (<...>), beside spaces and controls.
_NOT_IN_IRI = re.compile(r'[\s<>"{}|\\^`]')


def http_url(value: Any, *, hash_end: bool = False) -> str | None:
    """None when ``value`` is an absolute http(s) URL with a host and no user, query or fragment (with ``hash_end``,
    a final ``#`` is allowed); else "" (the caller's "must be ..." applies)."""
    if not isinstance(value, str) or _NOT_IN_IRI.search(value):
        return ""
    body = value[:-1] if hash_end and value.endswith("#") else value
    if "#" in body or "?" in body:
        return ""
    try:
        parts = urlsplit(body)
        parts.port  # noqa: B018  (raises on a port that is not a number from 0 to 65535)
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return ""
    return None


def base_iri() -> Allowed:
    def problem(value: Any) -> str | None:
        found = http_url(value, hash_end=True)
        if found is None and not value.endswith(("/", "#")):
            return ""
        return found

    # Resource IRIs are the base plus film/..., so the base must end where a path segment or a fragment begins.
    return Allowed("an absolute http(s) IRI ending in / or #, without query", problem)


def url() -> Allowed:
    return Allowed("empty, or an absolute http(s) URL without query or fragment", lambda value: None if value == "" else http_url(value))


_urls_text = "empty, or absolute http(s) IRIs separated by commas"


def urls() -> Allowed:
    def problem(value: Any) -> str | None:
        if not isinstance(value, tuple):
            return ""
        for item in value:
            if http_url(item) is not None:
                return f"{item!r} is not an absolute http(s) IRI (must be {_urls_text})"
        return None

    return Allowed(_urls_text, problem)


_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")


def host() -> Allowed:
    def problem(value: Any) -> str | None:
        if not isinstance(value, str) or not value:
            return ""
        try:
            ipaddress.ip_address(value)
            return None
        except ValueError:
            pass
        name = value[:-1] if value.endswith(".") else value
        if len(name) > 253 or not all(_LABEL.match(label) for label in name.split(".")):
            return ""
        try:
            socket.getaddrinfo(name, None, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        except (OSError, UnicodeError):
            return "a host name that does not resolve to an address (must be an IPv4 or IPv6 address, or a name that resolves)"
        return None

    return Allowed("an IPv4 or IPv6 address, or a host name that resolves", problem)


def origin() -> Allowed:
    # Access-Control-Allow-Origin takes one value: *, null, or one serialized origin (no path, no list).
    def problem(value: Any) -> str | None:
        if value in ("", "*", "null"):
            return None
        if http_url(value) is not None or urlsplit(value).path:
            return ""
        return None

    return Allowed("empty (no CORS), *, null, or one origin scheme://host[:port] without a path", problem)


def files(what: str, at_least_one: bool) -> Allowed:
    text = f"{'one or more' if at_least_one else 'zero or more'} existing files, separated by {os.pathsep!r}"

    def problem(value: Any) -> str | None:
        if not isinstance(value, tuple):
            return ""
        if at_least_one and not value:
            return f"no {what} files (must be {text})"
        for p in value:
            if not Path(p).is_file():
                return f"no such {what} file {p} (must be {text})"
        return None

    return Allowed(text, problem)


def file(what: str) -> Allowed:
    def problem(value: Any) -> str | None:
        if not isinstance(value, Path) or not value.is_file():
            return f"no such {what} file {value} (must be an existing file)"
        return None

    return Allowed("an existing file", problem)


def directory() -> Allowed:
    def problem(value: Any) -> str | None:
        if value == "":
            return None
        if not isinstance(value, str) or not Path(value).is_dir():
            return f"no such directory {value} (must be empty, or a store directory made by filmgraph build)"
        return None

    return Allowed("empty, or an existing store directory made by filmgraph build", problem)

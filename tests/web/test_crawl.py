"""A crawler over a real socket: from ``/``, every local link of every page answers without an error.

It follows ``href`` and ``src`` of every HTML page and every ``Link`` header,
stays on the server's own host and port (external links are never followed),
and fails on any 4xx or 5xx. Links into an area whose blueprint is not part of
this build (``filmgraph.web.{area}`` absent) are reported, not followed.
"""

from __future__ import annotations

import importlib.util
import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import requests

OPTIONAL_AREAS = {"dumps": "dumps", "ontology": "ontology", "dataset": "dataset", ".well-known": "dataset", "reconcile": "reconcile"}
MAX_PAGES = 5000
_LINK_TARGET = re.compile(r"<([^>]*)>")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.found.append(value)


def links_of(html: str) -> list[str]:
    """Every href and src of a page."""
    parser = _Links()
    parser.feed(html)
    parser.close()
    return parser.found


def _absent_area(path: str) -> str | None:
    segment = path.lstrip("/").split("/", 1)[0]
    area = OPTIONAL_AREAS.get(segment if segment.startswith(".") else segment.split(".", 1)[0])
    if area and importlib.util.find_spec(f"filmgraph.web.{area}") is None:
        return area
    return None


def crawl(start: str) -> tuple[dict[str, int], dict[str, list[str]], set[str]]:
    """Visit every local link from ``start``; return statuses, who links where, and links left out."""
    origin = urlsplit(start)
    statuses: dict[str, int] = {}
    referrers: dict[str, list[str]] = {}
    skipped: set[str] = set()
    queue = deque([start])
    seen = {start}
    with requests.Session() as session:
        while queue and len(statuses) < MAX_PAGES:
            url = queue.popleft()
            resp = session.get(url, allow_redirects=False, timeout=30, headers={"Accept": "text/html,*/*;q=0.8"})
            statuses[url] = resp.status_code
            found: list[str] = []
            if resp.status_code in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                found.append(resp.headers["Location"])
            for header in resp.headers.get("Link", "").split(","):
                match = _LINK_TARGET.search(header)
                if match:
                    found.append(match.group(1))
            if resp.headers.get("Content-Type", "").startswith("text/html"):
                found += links_of(resp.text)
            for link in found:
                target, _ = urldefrag(urljoin(url, link))
                parts = urlsplit(target)
                if parts.scheme not in ("http", "https") or (parts.hostname, parts.port) != (origin.hostname, origin.port):
                    continue  # external: never followed
                if _absent_area(parts.path):
                    skipped.add(target)
                    continue
                referrers.setdefault(target, []).append(url)
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
    return statuses, referrers, skipped


def test_every_local_link_from_the_home_page_answers(live_server) -> None:  # type: ignore[no-untyped-def]
    statuses, referrers, _ = crawl(live_server.url + "/")
    broken = {url: (code, referrers.get(url, [])[:3]) for url, code in statuses.items() if code >= 400}
    assert not broken, broken
    visited = set(statuses)
    base = live_server.url
    # the crawl reached the records, their claims, missions, the collections and every document format
    for path in ("/film/silent-star-1960.html", "/film/silent-star-1960.ttl", "/film/silent-star-1960.jsonld",
                 "/film/silent-star-1960.nt", "/claim/dream-come-true-1960-months-after-gagarin.html",
                 "/mission/vostok-1.html", "/film/", "/year/1961.html"):
        assert base + path in visited, path
    assert len(visited) < MAX_PAGES


def test_links_are_taken_from_href_and_src() -> None:
    html = '<a href="https://en.wikipedia.org/wiki/Luna_2">x</a><a href="/film/">y</a><img src="/static/a.png" alt="">'
    assert links_of(html) == ["https://en.wikipedia.org/wiki/Luna_2", "/film/", "/static/a.png"]

"""Security headers: a content security policy the query UI lives with, no sniffing, a referrer policy, no framing
except for the reconciliation preview (OpenRefine shows it in an iframe of its own origin)."""

from __future__ import annotations

import re

import pytest

PAGES = ["/", "/sparql", "/film/", "/film/aelita.html", "/ontology", "/dataset.html", "/dumps/", "/reconcile/about", "/film/no-such-film"]
OTHERS = [
    ("/sparql?query=ASK%7B%7D", "application/sparql-results+json"),
    ("/film/aelita.ttl", "text/turtle"),
    ("/film/aelita.jsonld", "application/ld+json"),
    ("/reconcile", "application/json"),
    ("/dumps/filmgraph.nt.gz", "application/gzip"),
    ("/healthz", "application/json"),
]
PREVIEWS = ["/reconcile/preview?id=film/aelita", "/reconcile/v1/preview?id=film/aelita"]


def _policy(header: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as directive -> sources."""
    out: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


def _html(client, path: str):  # type: ignore[no-untyped-def]
    resp = client.get(path, headers={"Accept": "text/html"})
    assert resp.status_code in (200, 404), (path, resp.status_code)
    assert resp.mimetype == "text/html", path
    return resp


@pytest.mark.parametrize("path", PAGES)
def test_pages_run_only_the_sites_own_scripts(client, path: str) -> None:  # type: ignore[no-untyped-def]
    policy = _policy(_html(client, path).headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_not_frameable(client, path: str) -> None:  # type: ignore[no-untyped-def]
    resp = _html(client, path)
    assert _policy(resp.headers["Content-Security-Policy"])["frame-ancestors"] == ["'none'"]
    assert resp.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", PAGES)
def test_pages_say_no_sniffing_and_a_referrer_policy(client, path: str) -> None:  # type: ignore[no-untyped-def]
    resp = _html(client, path)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_inline_script_the_policy_would_block(client, path: str) -> None:  # type: ignore[no-untyped-def]
    page = _html(client, path).get_data(as_text=True)
    for tag, body in re.findall(r"(<script\b[^>]*>)(.*?)</script>", page, flags=re.S | re.I):
        data_block = re.search(r'type="application/(?:ld\+)?json"', tag)
        assert 'src="' in tag or data_block, f"{path}: inline script {tag}"
        if 'src="' in tag:
            assert not body.strip()
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", page, flags=re.I), f"{path}: inline event handler"
    assert "javascript:" not in page.lower(), f"{path}: javascript: URL"


@pytest.mark.parametrize("path, media", OTHERS)
def test_every_answer_says_no_sniffing_and_cannot_be_framed(client, path: str, media: str) -> None:  # type: ignore[no-untyped-def]
    with client.get(path) as resp:
        assert resp.status_code == 200 and resp.mimetype == media, (path, resp.status_code, resp.mimetype)
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert _policy(resp.headers["Content-Security-Policy"])["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize("path", PREVIEWS)
def test_reconciliation_preview_may_be_framed_by_any_site(client, path: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(path)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    policy = _policy(resp.headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["*"]
    assert "X-Frame-Options" not in resp.headers
    # framing is the only thing relaxed
    assert policy["script-src"] == ["'self'"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_the_previews_own_inline_style_is_allowed(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(PREVIEWS[0])
    assert "<style>" in resp.get_data(as_text=True)
    assert "'unsafe-inline'" in _policy(resp.headers["Content-Security-Policy"])["style-src"]


def test_reconciliation_still_answers_cross_origin_reads(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/reconcile", headers={"Origin": "http://127.0.0.1:3333"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"

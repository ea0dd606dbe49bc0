"""The query UI's vendored YASGUI assets: built from npm into the package, served by the app, no CDN."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENDOR = resources.files("filmgraph.web") / "static" / "vendor" / "yasgui"
ASSETS = {"yasgui.min.js": "text/javascript", "yasgui.min.css": "text/css"}


def _html(client, path: str) -> str:  # type: ignore[no-untyped-def]
    resp = client.get(path, headers={"Accept": "text/html"})
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_yasgui_asset_is_in_the_installed_package(name: str) -> None:
    asset = VENDOR / name
    assert asset.is_file(), f"{name} is missing from the installed package: build it with pip (hatch_build.py)"
    assert len(asset.read_bytes()) > 10_000


def test_vendored_yasgui_is_the_version_the_lock_file_pins() -> None:
    stamp = json.loads((VENDOR / "ASSETS.json").read_text(encoding="utf-8"))
    lock_file = ROOT / "frontend" / "package-lock.json"
    if not lock_file.is_file():
        pytest.skip("no frontend/ beside the tests (not a checkout)")
    lock = json.loads(lock_file.read_text(encoding="utf-8"))
    assert stamp["package"] == "@zazuko/yasgui"
    assert stamp["version"] == lock["packages"]["node_modules/@zazuko/yasgui"]["version"]


@pytest.mark.parametrize(("name", "media_type"), sorted(ASSETS.items()))
def test_yasgui_asset_is_served_with_its_media_type(client, name: str, media_type: str) -> None:  # type: ignore[no-untyped-def]
    with client.get(f"/static/vendor/yasgui/{name}") as resp:
        assert resp.status_code == 200
        assert resp.mimetype == media_type
        assert resp.get_data() == (VENDOR / name).read_bytes()


@pytest.mark.parametrize(("name", "media_type"), [("sparql-ui.js", "text/javascript"), ("sparql-ui.css", "text/css")])
def test_query_ui_own_asset_is_served_with_its_media_type(client, name: str, media_type: str) -> None:  # type: ignore[no-untyped-def]
    with client.get(f"/static/{name}") as resp:
        assert resp.status_code == 200
        assert resp.mimetype == media_type


def test_query_ui_page_loads_only_local_assets(client) -> None:  # type: ignore[no-untyped-def]
    page = _html(client, "/sparql")
    sources = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', page)
    assert "/static/vendor/yasgui/yasgui.min.js" in sources
    assert "/static/vendor/yasgui/yasgui.min.css" in sources
    for src in sources:
        assert src.startswith("/"), f"{src} is not served by the site itself"
        with client.get(src) as resp:
            assert resp.status_code == 200, src


def test_query_ui_page_has_no_inline_script(client) -> None:  # type: ignore[no-untyped-def]
    # a strict Content-Security-Policy (script-src 'self') must be possible
    page = _html(client, "/sparql")
    for tag, body in re.findall(r"(<script\b[^>]*>)(.*?)</script>", page, flags=re.S):
        assert 'src="' in tag or 'type="application/json"' in tag, tag
        if 'src="' in tag:
            assert not body.strip()
    assert not re.search(r"\son[a-z]+=", page), "inline event handler"


def test_query_ui_settings_name_the_local_endpoint_and_the_examples(client) -> None:  # type: ignore[no-untyped-def]
    page = _html(client, "/sparql")
    block = re.search(r'<script type="application/json" id="query-ui-config">(.*?)</script>', page, flags=re.S)
    assert block is not None
    config = json.loads(block.group(1))
    assert config["endpoint"] == "/sparql"
    assert config["persistenceId"].startswith("filmgraph-")
    assert [ex["name"] for ex in config["examples"]][:1] == ["Films of the list by year"]
    assert all("PREFIX fg:" in ex["query"] for ex in config["examples"])


def test_query_ui_page_has_a_plain_form_for_browsers_without_javascript(client) -> None:  # type: ignore[no-untyped-def]
    page = _html(client, "/sparql")
    form = re.search(r'<form method="get" action="/sparql">(.*?)</form>', page, flags=re.S)
    assert form is not None
    assert 'name="query"' in form.group(1)
    assert "fg:FilmRecord" in form.group(1)
    assert "<noscript>" in page

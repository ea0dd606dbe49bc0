"""Every setting is documented, typed, and readable from the environment."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from filmgraph.core.settings import Settings, allowed, table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_has_help_text() -> None:
    for name, env, default, help_ in table():
        assert len(help_) > 20, name
        assert env == "FILMGRAPH_" + name.upper()


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text()
    for f in dataclasses.fields(Settings):
        assert f"`FILMGRAPH_{f.name.upper()}`" in text, f"{f.name} is missing from README.md's settings table"


def test_every_setting_has_its_allowed_values_in_the_readme() -> None:
    text = README.read_text()
    for name, env, *_ in table():
        assert len(allowed(name)) > 5, name
        row = next((line for line in text.splitlines() if line.startswith(f"| `--{name.replace('_', '-')}` | `{env}`")), "")
        assert allowed(name) in row, f"{name}: README.md's settings table does not say what it allows"


def test_environment_variables_are_parsed_by_type() -> None:
    s = Settings.from_env({"FILMGRAPH_QUERY_TIMEOUT": "2.5", "FILMGRAPH_MAX_ROWS": "7", "FILMGRAPH_VALIDATE": "no", "FILMGRAPH_SERVICE_ALLOW": "http://a/, http://b/"})
    assert s.query_timeout == 2.5 and s.max_rows == 7 and s.validate is False
    assert s.service_allow == ("http://a/", "http://b/")


def test_bad_values_name_the_setting() -> None:
    with pytest.raises(ValueError, match="max_rows"):
        Settings.from_env({"FILMGRAPH_MAX_ROWS": "many"})


def test_nothing_is_read_at_import_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FILMGRAPH_PORT", "9999")
    assert Settings().port == 8080
    assert Settings.from_env().port == 9999

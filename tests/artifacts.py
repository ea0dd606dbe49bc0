"""Figures that tests measure, kept in ``test-artifacts/*.json`` for the closing notes and bench/README.md."""

from __future__ import annotations

import json
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def add_figures(filename: str, name: str, figures: dict[str, object], title: str | None = None) -> None:
    """Add ``figures`` under ``name`` to ``test-artifacts/<filename>`` (other names kept) and print them."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / filename
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        report = {}
    report[name] = figures
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{title or name}:", json.dumps(figures, indent=2))

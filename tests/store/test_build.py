"""Building a store: the same site index as before the build was made faster, progress while it works,
and a stopped build that leaves nothing a server would open."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from filmgraph.core.errors import InvalidData
from filmgraph.core.progress import Progress
from filmgraph.truth.rules import run_rules
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import INCOMPLETE, EmbeddedStore, building_dir

from ..indexdigest import cases, file_digest, index_digest

GOLDEN = json.loads((Path(__file__).parents[1] / "data" / "index-digest.json").read_text())
"""Digests of the index built by the code before the build was made parallel and faster (see indexdigest.py)."""


@pytest.fixture(scope="module")
def case_settings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Settings]:
    return cases(tmp_path_factory.mktemp("cases"))  # type: ignore[return-value]


@pytest.mark.parametrize("case", ["shipped", "generated-10000"])
def test_index_contents_are_those_the_build_made_before(case: str, case_settings: dict[str, Settings], tmp_path: Path) -> None:
    settings = case_settings[case]
    if file_digest([*settings.ontology, *settings.data]) != GOLDEN[case]["data"]:
        pytest.skip(f"the {case} data changed since the digest was taken (the other case still checks the build)")
    store = EmbeddedStore.build(settings, tmp_path / "store")
    assert index_digest(tmp_path / "store" / "filmgraph-index.sqlite") == GOLDEN[case]["index"]
    # The findings come from the rules, which change on their own: they must be what one run of them makes.
    report = run_rules(store)
    index = store.index
    assert index is not None
    rows = index.execute("SELECT rule, label, severity, concerns, related, message FROM finding ORDER BY id")
    assert [tuple(r) for r in rows] == [(f.rule, f.label, f.severity, f.concerns, f.related, f.message) for f in report.findings]
    assert index.meta["rules_run"] == ",".join(r.name for r in report.rules)
    counted = {f"{rule}:{severity}": n for (rule, severity), n in report._totals().items()}
    assert index.counts("finding:") == counted


def test_build_shows_its_phases_with_counts(tmp_path: Path) -> None:
    stream = io.StringIO()
    progress = Progress("build", stream=stream, live=False)
    EmbeddedStore.build(Settings(validate=False), tmp_path / "store", progress=progress)
    progress.close()
    names = [f.name for f in progress.done]
    assert names[0] == "loading the store" and names[-1] == "checksums"
    assert {"index: reading the store", "dataset statistics", "index: findings and indexes"} <= set(names)
    assert any(n.startswith("rules") for n in names)
    text = stream.getvalue()
    assert "build: loading the store: done, " in text and " B in " in text
    assert "build: index: reading the store: done, " in text and " values in " in text
    assert "findings in" in text


def test_progress_says_rate_and_time_left_while_a_phase_runs() -> None:
    stream = io.StringIO()
    progress = Progress("load", stream=stream, live=False, every=0.05)
    with progress.phase("sending", total=100, unit="triples") as phase:
        phase.advance(50)
        time.sleep(0.3)
    progress.close()
    running = [line for line in stream.getvalue().splitlines() if "done" not in line]
    assert running and "50 of 100 triples (50 %)" in running[0] and "triples/s" in running[0] and "left" in running[0]


def test_quiet_progress_writes_nothing(tmp_path: Path) -> None:
    stream = io.StringIO()
    progress = Progress("build", quiet=True, stream=stream)
    EmbeddedStore.build(Settings(validate=False), tmp_path / "store", progress=progress)
    progress.close()
    assert stream.getvalue() == ""
    assert progress.done  # the figures are kept all the same


def test_failed_build_leaves_nothing_and_runs_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "store"

    def stopped(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("filmgraph.store.embedded.build_index", stopped)
    with pytest.raises(KeyboardInterrupt):
        EmbeddedStore.build(Settings(validate=False), path)
    assert not path.exists() and not building_dir(path).exists()
    monkeypatch.undo()
    assert len(EmbeddedStore.build(Settings(validate=False), path)) > 0


def test_serve_refuses_an_incomplete_build(tmp_path: Path) -> None:
    half = tmp_path / "store"
    half.mkdir()
    (half / INCOMPLETE).write_text("killed\n")
    with pytest.raises(InvalidData, match="incomplete build"):
        EmbeddedStore.open(half)


def test_build_after_a_killed_one_removes_what_it_left(tmp_path: Path) -> None:
    path = tmp_path / "store"
    left = building_dir(path)
    left.mkdir()
    (left / INCOMPLETE).write_text("killed\n")
    (left / "000001.sst").write_bytes(b"half")
    assert len(EmbeddedStore.build(Settings(validate=False), path)) > 0
    assert not left.exists()


def test_build_does_not_remove_a_folder_it_did_not_make(tmp_path: Path) -> None:
    path = tmp_path / "store"
    building_dir(path).mkdir()
    (building_dir(path) / "mine.txt").write_text("a user's file\n")
    with pytest.raises(InvalidData, match="not a filmgraph build in progress"):
        EmbeddedStore.build(Settings(validate=False), path)
    assert (building_dir(path) / "mine.txt").is_file()


def test_sigterm_stops_the_build_command_and_says_where(case_settings: dict[str, Settings], tmp_path: Path) -> None:
    path = tmp_path / "store"
    films = case_settings["generated-10000"].data[0]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "filmgraph.cli", "build", str(path), "--data", str(films), "--validate", "false"]
    with subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env) as build:
        assert build.stderr is not None
        for line in build.stderr:
            if "loading the store: done" in line:  # the store is on disk, the index and the rules are running
                build.send_signal(signal.SIGTERM)
                break
        rest = build.stderr.read()
        assert build.wait(timeout=60) == 130
    assert "build: stopped during " in rest and "run the same command again" in rest
    assert not path.exists() and not building_dir(path).exists()


def test_build_command_quiet_prints_only_its_result(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "filmgraph.cli", "build", str(tmp_path / "s"), "--validate", "false", "--quiet"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith(f"built {tmp_path / 's'}: ")


def test_export_shows_its_phases_and_quiet_hides_them(tmp_path: Path) -> None:
    out = tmp_path / "all.nt"
    command = [sys.executable, "-m", "filmgraph.cli", "export", "--format", "ntriples", "-o", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = out.read_text(encoding="utf-8").count("\n")
    assert "export: validating (SHACL): done" in done.stderr
    assert f"export: writing ntriples: done, {lines:,} triples in " in done.stderr
    quiet = subprocess.run([*command, "--quiet"], capture_output=True, text=True, timeout=120)
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_a_dump_made_quickly_leaves_no_line_in_the_log() -> None:
    stream = io.StringIO()
    progress = Progress("dump", stream=stream, live=False, brief=True)
    with progress.phase("writing filmgraph.nt", unit="B") as phase:
        phase.advance(10)
    progress.close()
    assert stream.getvalue() == "" and progress.done[0].count == 10

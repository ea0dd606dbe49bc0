"""A remote store's site index, built once (``filmgraph build DIR --store-url URL``) and opened by every process.

Building reads the store as a remote filmgraph's start-up did (one query per
property, under :data:`~filmgraph.services.INDEX_QUERY_TIMEOUT`; each rule under
:data:`~filmgraph.services.RULE_QUERY_TIMEOUT`), always with the store's own time
limit where it takes one per query (Virtuoso's ``timeout``), so that nothing goes
on running on the store after filmgraph stops waiting. The directory holds the
index (``filmgraph-index.sqlite``) and a marker, ``filmgraph-remote.json``, with
the index's build id and the state of the store it describes: the URL, the graph,
the triple count and a cheap fingerprint (:meth:`RemoteStore.fingerprint`).

``serve --store-url URL --store-path DIR`` opens the index read-only and asks the
store for its fingerprint (one small query) and, where counting took at most
:data:`COUNT_CHECK_SECONDS` at build, its triple count; an index of another
store, or of a store that changed since, is refused with one line naming the
command that rebuilds it. The directory is written as a pre-built store is: into
a hidden sibling renamed when complete; ``build`` refuses a non-empty directory.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import uuid
from pathlib import Path

from typing import TYPE_CHECKING

from ..core.dataset import Store
from ..core.errors import FilmgraphError, InvalidData, Unavailable
from ..core.progress import Progress
from ..core.settings import ENV_PREFIX, SettingError, Settings, flag
from ..store.embedded import INCOMPLETE, MARKER, building_dir
from ..store.index import INDEX_FILE, SiteIndex
from ..store.remote import RemoteStore

if TYPE_CHECKING:
    from ..truth.rules import Report

INDEX_QUERY_TIMEOUT = 600.0
"""Seconds one paged query may take while a remote store is indexed (a page sorts the whole property)."""


def indexing_store(store: Store) -> Store:
    """The store to read the site index from: a remote one with a time limit for whole-store pages, not the clients' limit."""
    if not isinstance(store, RemoteStore):
        return store
    return store.limited(max(INDEX_QUERY_TIMEOUT, store.timeout), f"the index's limit, INDEX_QUERY_TIMEOUT {INDEX_QUERY_TIMEOUT:g} s")


RULE_QUERY_TIMEOUT = 120.0
"""Seconds one consistency rule may take on a remote store at startup; a slower rule is left out of the report, which says so."""


def remote_rules(store: Store) -> Report:
    """The rules' report of a remote store, kept in its index: each rule once, under its own limit.

    A rule that the store cannot answer in time is left out (the report lists the rules that ran,
    and startup says which did not), so that no page ever runs the rules on a client's request.
    """
    from datetime import datetime, timezone

    from ..truth.rules import Finding, Report, list_rules, run_rules

    assert isinstance(store, RemoteStore)
    limited = store.limited(RULE_QUERY_TIMEOUT, "a rule's limit, RULE_QUERY_TIMEOUT")  # the store's own limit too, where it takes one
    ran, findings = [], set()
    for rule in list_rules():
        try:
            findings.update(run_rules(limited, [rule.name]).findings)
        except Unavailable:
            raise  # the store is down: the index waits for it as a whole
        except FilmgraphError as exc:
            print(f"filmgraph: rule {rule.name} is left out of the consistency report: {exc.message}", file=sys.stderr)
            continue
        ran.append(rule)
    return Report(tuple(sorted(findings, key=Finding.sort_key)), tuple(ran), datetime.now(timezone.utc).replace(microsecond=0))


REMOTE_MARKER = "filmgraph-remote.json"
"""The marker of a remote store's index directory: build id and the store state it describes."""

STATE_QUERY_TIMEOUT = 120.0
"""Seconds the count and the fingerprint may take when a process checks an index against its store."""


def refused(path: Path, reason: str) -> SettingError:
    """The one line that stops a process whose store_path is not an index of its store as it is."""
    return SettingError([f"setting store_path ({flag('store_path')} / {ENV_PREFIX}STORE_PATH) = {path}: {reason}"])


def remote_store(settings: Settings) -> RemoteStore:
    """The remote store the settings name, with the clients' time limit."""
    return RemoteStore(settings.store_url, settings.base_iri, timeout=settings.query_timeout, graph=settings.store_graph)


COUNT_CHECK_SECONDS = 2.0
"""A process re-counts the store's triples at start when counting took at most this long at build; else the
fingerprint alone is checked (a COUNT of 27 M triples takes the Oxigraph server 7 to 20 s, longer than a start may)."""


def store_state(store: RemoteStore, count: bool = True, subjects: list[str] | None = None) -> dict[str, object]:
    """What an index records of its store: the fingerprint (of ``subjects``, else of subjects it picks), and
    (``count``) the triple count and how long counting took, each under the state limit (the store's own too)."""
    limited = store.limited(max(STATE_QUERY_TIMEOUT, store.timeout), "the state check's limit, STATE_QUERY_TIMEOUT")
    picked, fingerprint = limited.fingerprint(subjects)
    state: dict[str, object] = {"fingerprint": fingerprint, "fingerprint_subjects": picked}
    if count:
        started = time.monotonic()
        state["triples"] = len(limited)
        state["count_seconds"] = round(time.monotonic() - started, 3)
    return state


def _same(a: dict[str, object], b: dict[str, object]) -> bool:
    return a["fingerprint"] == b["fingerprint"] and a.get("triples") == b.get("triples")


def rebuild_command(settings: Settings, path: Path) -> str:
    """The command that builds a fresh index for this store (into a new directory)."""
    graph = f" --store-graph {settings.store_graph}" if settings.store_graph else ""
    return f"filmgraph build {path.with_name(path.name + '-new')} --store-url {settings.store_url}{graph}"


def build_remote_index(settings: Settings, path: Path, progress: Progress | None = None) -> tuple[SiteIndex, dict[str, object]]:
    """Build the site index and the rules' findings of the remote store into the new directory ``path``."""
    from ..store.index_build import build_index

    progress = progress if progress is not None else Progress.off()
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise InvalidData(f"{path}: not empty; refusing to build an index over existing files", file=str(path))
    store = remote_store(settings)
    work = building_dir(path)
    if work.exists():
        shutil.rmtree(work)  # an earlier build of the same directory that was killed outright
    work.mkdir(parents=True)
    (work / INCOMPLETE).touch()
    try:
        with progress.phase("the store's state (count, fingerprint)", unit=""):
            state = store_state(store)
        build_id = uuid.uuid4().hex
        indexing = indexing_store(store)
        report = (lambda: remote_rules(store)) if settings.index_rules else None
        build_index(indexing, work / INDEX_FILE, build_id, int(state["triples"]), report, REMOTE_MARKER, progress)  # type: ignore[call-overload]
        with progress.phase("the store's state again", unit=""):
            after = store_state(store, subjects=state["fingerprint_subjects"])  # type: ignore[arg-type]
        if not _same(after, state):
            raise InvalidData(f"the remote store at {settings.store_url} changed while its index was built "
                              f"({state['triples']} triples before, {after['triples']} after); build again once it is loaded",
                              file=str(path))
        marker = {"build_id": build_id, "store_url": settings.store_url, "store_graph": settings.store_graph,
                  "base_iri": settings.base_iri, "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **state}
        (work / REMOTE_MARKER).write_text(json.dumps(marker, indent=2))
        (work / INCOMPLETE).unlink()
        if path.exists():
            path.rmdir()
        work.rename(path)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return SiteIndex.open(path / INDEX_FILE, build_id, path / REMOTE_MARKER), marker


def open_remote_index(settings: Settings, store: RemoteStore) -> SiteIndex:
    """Open the index in ``settings.store_path`` for the remote store; refuse one that is not of this store as it is now."""
    path = Path(settings.store_path)
    marker_path = path / REMOTE_MARKER
    rebuild = rebuild_command(settings, path)
    if (path / INCOMPLETE).exists():
        raise refused(path, f"an incomplete build (stopped before it finished); build it again: {rebuild}")
    if not marker_path.is_file():
        what = "a pre-built embedded store (serve it without --store-url)" if (path / MARKER).is_file() else "not a remote store's index"
        raise refused(path, f"{what}; no {REMOTE_MARKER} (build one with: {rebuild})")
    try:
        marker = json.loads(marker_path.read_text())
        recorded = {"triples": int(marker["triples"]), "fingerprint": str(marker["fingerprint"])}
        subjects = [str(iri) for iri in marker["fingerprint_subjects"]]
        recount = float(marker.get("count_seconds", 0.0)) <= COUNT_CHECK_SECONDS
        build_id = str(marker["build_id"])
    except (OSError, ValueError, KeyError) as exc:
        raise refused(path, f"{REMOTE_MARKER} is unreadable ({exc}); build the index again: {rebuild}") from None
    # The store's address may change (another host name, a new port); its graph and the base IRI change what is read.
    mine = {"store_graph": settings.store_graph, "base_iri": settings.base_iri}
    theirs = {k: marker.get(k, "") for k in mine}
    if theirs != mine:
        differ = ", ".join(f"{k} {theirs[k]!r} (this process: {mine[k]!r})" for k in mine if theirs[k] != mine[k])
        raise refused(path, f"indexes another dataset: {differ}; build this one's index: {rebuild}")
    index = SiteIndex.open(path / INDEX_FILE, build_id, marker_path)
    now = store_state(store, count=recount, subjects=subjects)
    if not recount:
        now["triples"] = recorded["triples"]
    if not _same(now, recorded):
        index.close()
        change = (f"{recorded['triples']} triples then, {now['triples']} now" if now["triples"] != recorded["triples"]
                  else "same triple count, another fingerprint (the data was reloaded or changed)")
        raise refused(path, f"the index is stale: it describes the store at {settings.store_url} as it was at {marker.get('built', '?')} "
                            f"({change}); rebuild it: {rebuild}, then serve with --store-path on the new directory")
    checked = f"{recorded['triples']} triples" if recount else (
        f"its fingerprint; the count of {recorded['triples']} triples is not re-checked at start: it took "
        f"{float(marker['count_seconds']):.0f} s at build")
    moved = f", built against {marker.get('store_url')}" if marker.get("store_url") != settings.store_url else ""
    print(f"filmgraph: site index {path} matches the store ({checked}{moved})", file=sys.stderr)
    return index

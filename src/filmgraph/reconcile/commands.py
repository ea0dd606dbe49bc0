"""``filmgraph link``: the command behind link discovery and review acceptance (no Flask)."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timezone
from pathlib import Path

from .. import formats as F
from ..core.errors import BadRequest
from ..core.progress import Progress
from ..site.services import Services
from .index import read_entries
from .linking import SparqlClient, accept, discover
from .wikidata import accepted_edits, csv_text, skipped, v1
from .service import parse_json

REVIEW_FILE = "link-review.json"
QUICKSTATEMENTS_STEM = "quickstatements"


def _outside_data(services: Services, output: Path) -> None:
    # Links reach the data only through a person: this command never writes into the data folder.
    folders = {p.resolve().parent for p in services.settings.data}
    target = output.resolve()
    if any(target == f or f in target.parents for f in folders):
        raise BadRequest(f"{output}: inside the data folder; write the file elsewhere and add it to the data yourself after review")


def link(services: Services, endpoint: str | None, review: str | None, output: str | None, timeout: float = 60.0,
         progress: Progress | None = None) -> int:
    """Write a review file of candidates from ``endpoint``, or the Turtle of the accepted candidates of ``review``."""
    entries = read_entries(services.store)
    if endpoint:
        target = Path(output or REVIEW_FILE)
        _outside_data(services, target)
        result = discover(entries, SparqlClient(endpoint, timeout), progress=progress)
        target.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        found = sum(len(r["candidates"]) for r in result["resources"])
        print(f"wrote {target}: {found} candidates for {len(result['resources'])} resources; nothing was added to the data", file=sys.stderr)
        return 0
    assert review is not None
    triples = accept(parse_json(Path(review).read_bytes(), review), entries, services.store.base_iri)
    body = F.serialize_graph(triples, F.TURTLE, services.store.base_iri)
    links = sum(1 for t in triples if t.predicate.value.endswith("#sameAs"))
    if output:
        _outside_data(services, Path(output))
        Path(output).write_bytes(body)
    else:
        sys.stdout.buffer.write(body)
    print(f"{links} accepted links written{f' to {output}' if output else ''}; add them to data/ yourself", file=sys.stderr)
    return 0


def quickstatements(services: Services, review: str, output: str | None, today: date | None = None) -> int:
    """Write QuickStatements (V1 ``{stem}.txt`` and CSV ``{stem}.csv``) for the accepted film candidates of a review."""
    data = parse_json(Path(review).read_bytes(), review)
    base = services.store.base_iri
    edits = accepted_edits(data, base, today or datetime.now(timezone.utc).date())
    stem = Path(output or QUICKSTATEMENTS_STEM)
    if stem.suffix in (".txt", ".csv", ".tsv"):
        stem = stem.with_suffix("")
    targets = (stem.with_name(stem.name + ".txt"), stem.with_name(stem.name + ".csv"))
    for target in targets:
        _outside_data(services, target)
    targets[0].write_text(v1(edits), encoding="utf-8")
    targets[1].write_text(csv_text(edits), encoding="utf-8")
    print(f"wrote {targets[0]} (QuickStatements V1) and {targets[1]} (CSV): {len(edits)} statements from the accepted candidates", file=sys.stderr)
    for item in skipped(data, base):
        print(f"no statement for {item}: only films have a filmgraph id property; add such links with --accept", file=sys.stderr)
    return 0

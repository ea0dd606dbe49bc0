"""``filmgraph link``: the command behind link discovery and review acceptance (no Flask)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .. import formats as F
from ..errors import BadRequest
from ..services import Services
from .index import read_entries
from .linking import SparqlClient, accept, discover
from .service import parse_json

REVIEW_FILE = "link-review.json"


def _outside_data(services: Services, output: Path) -> None:
    # Links reach the data only through a person: this command never writes into the data folder.
    folders = {p.resolve().parent for p in services.settings.data}
    target = output.resolve()
    if any(target == f or f in target.parents for f in folders):
        raise BadRequest(f"{output}: inside the data folder; write the file elsewhere and add it to the data yourself after review")


def link(services: Services, endpoint: str | None, review: str | None, output: str | None, timeout: float = 60.0) -> int:
    """Write a review file of candidates from ``endpoint``, or the Turtle of the accepted candidates of ``review``."""
    entries = read_entries(services.store)
    if endpoint:
        target = Path(output or REVIEW_FILE)
        _outside_data(services, target)
        result = discover(entries, SparqlClient(endpoint, timeout))
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

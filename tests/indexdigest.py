"""A compact digest of a site index's contents, to show that a change to the build leaves them as they were.

Every table is read whole and sorted, row by row, into one SHA-256 per table (with its row count); the
full-text table, which keeps no content, by its vocabulary (term, column, documents, occurrences). Left
out: what differs between two builds by design (the build's id and time, and SQLite's planner statistics,
a by-product of ``ANALYZE``), and what the rules decide (the findings, their counts, the rules run), which
changes whenever a rule does: the test compares those with the rules run over the built store instead.

    python tests/indexdigest.py OUT.json   # the digests of the shipped data and the generated 10^4 films

was run once with the build as it was before it was made parallel and faster (commit 67bd60d) to write
tests/data/index-digest.json.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from pathlib import Path

VOLATILE_META = ("build_id", "built", "rules_created", "rules_run")
"""meta keys left out: they differ between two builds of the same data, or are the rules' (checked apart)."""

REPO = Path(__file__).resolve().parents[1]


def index_digest(path: Path) -> dict[str, str]:
    """``{table: "rows:sha256"}`` for every table of the index but the findings, and ``schema`` for its tables."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        out = {}
        out["schema"] = _digest(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'label_fts_%'").fetchall())
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'label_fts%'")]
        for name in tables:
            if name == "finding":
                continue
            where = {"meta": f" WHERE key NOT IN ({', '.join('?' * len(VOLATILE_META))})", "count": " WHERE name NOT LIKE 'finding:%'"}.get(name, "")
            rows = db.execute(f"SELECT * FROM {name}{where}", VOLATILE_META if name == "meta" else ()).fetchall()  # noqa: S608 (names from the schema)
            out[name] = _digest(rows)
        db.execute("CREATE VIRTUAL TABLE temp.digest_vocab USING fts5vocab(main, 'label_fts', 'col')")
        out["label_fts"] = _digest(db.execute("SELECT term, col, doc, cnt FROM temp.digest_vocab").fetchall())
        return dict(sorted(out.items()))
    finally:
        db.close()


def file_digest(paths: list[Path]) -> str:
    """SHA-256 of the files' bytes, in order (the data a digest was taken of)."""
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _digest(rows: list[tuple[object, ...]]) -> str:
    h = hashlib.sha256()
    for row in sorted(rows, key=repr):
        h.update(repr(row).encode("utf-8") + b"\n")
    return f"{len(rows)}:{h.hexdigest()[:16]}"


def cases(work: Path) -> dict[str, object]:
    """The settings of each case: the shipped data, and 10^4 generated films (written into ``work``)."""
    sys.path.insert(0, str(REPO / "bench"))
    from generate import generate

    from filmgraph.core.settings import Settings

    films = work / "films-10000.nt"
    if not films.exists():
        with films.open("w", encoding="utf-8") as out:
            generate(10_000, out)
    return {"shipped": Settings(), "generated-10000": Settings(data=(films,), validate=False)}


def main(out: Path) -> None:
    """Build every case into a temporary folder and write their digests (and their data's) to ``out``."""
    import tempfile

    from filmgraph.store.embedded import EmbeddedStore

    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, settings in cases(Path(tmp)).items():
            store = EmbeddedStore.build(settings, Path(tmp) / name)  # type: ignore[arg-type]
            files = [*settings.ontology, *settings.data]  # type: ignore[attr-defined]
            result[name] = {"data": file_digest(files), "index": index_digest(Path(tmp) / name / "filmgraph-index.sqlite")}
            store.close()
    out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))

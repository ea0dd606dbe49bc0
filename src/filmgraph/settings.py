"""The settings table: every knob filmgraph has, with its default and help.

Each setting can be given as an environment variable (``FILMGRAPH_`` + the
upper-case name) or as a CLI flag (``--`` + the name with dashes). Nothing is
read at import time: :func:`Settings.from_env` reads the environment when asked.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "FILMGRAPH_"
DEFAULT_BASE = "https://w3id.org/filmgraph/"


def bundled_dir(name: str) -> Path:
    """Return the shipped ``ontology`` or ``data`` folder, installed or in a checkout."""
    installed = Path(__file__).parent / "_bundled" / name
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / name


def _default_data() -> tuple[Path, ...]:
    return tuple(sorted(bundled_dir("data").glob("*.ttl")))


def _default_ontology() -> tuple[Path, ...]:
    return (bundled_dir("ontology") / "filmgraph.ttl",)


def _default_shapes() -> Path:
    return bundled_dir("ontology") / "shapes.ttl"


def _paths(value: str) -> tuple[Path, ...]:
    return tuple(Path(p) for p in value.split(os.pathsep) if p)


def _bool(value: str) -> bool:
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _list(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _setting(default: Any, help: str, parse: Any = None, factory: Any = None) -> Any:
    meta = {"help": help, "parse": parse}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    """All settings; see ``filmgraph settings`` or the README for the table."""

    base_iri: str = _setting(DEFAULT_BASE, "Canonical base IRI of every resource; the data files are written with the default and rewritten to this at load.")
    host: str = _setting("127.0.0.1", "Address the server listens on.")
    port: int = _setting(8080, "Port the server listens on.", int)
    workers: int = _setting(2, "Web worker processes of the production server.", int)
    threads: int = _setting(8, "Threads per web worker (concurrent requests per worker).", int)
    public_url: str = _setting("", "Public URL of the site (scheme://host[:port]/), used in the service description; empty means the request's own host.")
    data: tuple[Path, ...] = _setting(None, "Data files (Turtle), separated by the path separator; default: the shipped dataset.", _paths, _default_data)
    ontology: tuple[Path, ...] = _setting(None, "Ontology files loaded with the data.", _paths, _default_ontology)
    shapes: Path = _setting(None, "SHACL shapes the data must conform to.", Path, _default_shapes)
    validate: bool = _setting(True, "Validate the data against the shapes at load; refuse to start when it does not conform.", _bool)
    store_path: str = _setting("", "A pre-built on-disk store (filmgraph build) to open read-only instead of loading the files.")
    index_rules: bool = _setting(True, "Run the consistency rules when a store is built and keep their findings in its site index, so pages read them instead of running the rules in every process; off for data whose rules are too slow to run at build.", _bool)
    store_url: str = _setting("", "A remote SPARQL 1.1 query endpoint to serve from instead of the embedded store.")
    store_update_url: str = _setting("", "SPARQL 1.1 Update endpoint of the remote store, used by filmgraph load when there is no graph store; empty: store_url with a final /query replaced by /update, else store_url itself.")
    store_graph_store_url: str = _setting("", "Graph Store Protocol endpoint of the remote store, used by filmgraph load (PUT of the default graph); empty: looked for beside store_url (Oxigraph /store, Fuseki /data), else SPARQL Update is used.")
    query_timeout: float = _setting(10.0, "Time limit of one query, seconds; past it the query is stopped and the client gets 503.", float)
    max_rows: int = _setting(10000, "Most result rows (or triples) returned by one query; a truncated result says so.", int)
    max_body: int = _setting(1_000_000, "Largest accepted request body, bytes (413 above).", int)
    max_query_length: int = _setting(100_000, "Longest accepted query text, characters (414 for GET, 413 for POST above).", int)
    max_query_nesting: int = _setting(1000, "Deepest nesting of a query (brackets open at once; a chained ! counts as one more), so that no query can overflow the engine's stack (400 above).", int)
    query_workers: int = _setting(2, "Query worker processes per web worker; a runaway query is stopped by ending its worker.", int)
    result_cache_mb: int = _setting(64, "Memory for cached query results per web worker, MiB (the data is read-only, so cached answers never go stale); 0 turns the cache off.", int)
    service_allow: tuple[str, ...] = _setting((), "SERVICE endpoints that queries may call (comma-separated IRIs); empty: SERVICE is refused.", _list, tuple)
    cors_origins: str = _setting("*", "Access-Control-Allow-Origin for reads.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``FILMGRAPH_*`` variables, then explicit overrides."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = parse_value(f.name, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with some settings changed."""
        return dataclasses.replace(self, **changes)


def parse_value(name: str, raw: str) -> Any:
    """Parse a setting's text form (environment variable or flag)."""
    f = {f.name: f for f in dataclasses.fields(Settings)}[name]
    parse = f.metadata["parse"]
    try:
        return parse(raw) if parse else raw
    except ValueError as exc:
        raise ValueError(f"setting {name}: {exc}") from exc


def table() -> list[tuple[str, str, str, str]]:
    """Return (name, environment variable, default, help) for every setting."""
    rows = []
    defaults = Settings()
    for f in dataclasses.fields(Settings):
        default = getattr(defaults, f.name)
        if f.name in {"data", "ontology", "shapes"}:
            shown = "(shipped files)"
        elif isinstance(default, tuple):
            shown = ",".join(map(str, default))
        else:
            shown = str(default)
        rows.append((f.name, ENV_PREFIX + f.name.upper(), shown, f.metadata["help"]))
    return rows

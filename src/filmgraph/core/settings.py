"""The settings table: every knob filmgraph has, with its default, help and allowed values.

Each setting can be given as an environment variable (``FILMGRAPH_`` + the
upper-case name) or as a CLI flag (``--`` + the name with dashes). Nothing is
read at import time: :func:`Settings.from_env` reads the environment when asked.
Every command checks its settings with :func:`load` before it starts anything:
a value outside its range or form stops it with one line naming the setting.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import allowed as checks

ENV_PREFIX = "FILMGRAPH_"
DEFAULT_BASE = "https://w3id.org/filmgraph/"

# Upper bounds, each the most this process can honour (a larger value is a typo, or a promise it cannot keep):
MAX_WORKERS = 128  # web workers: 1 to 2 per core is the advice; each forks its own query workers and opens the store
MAX_THREADS = 1000  # threads per web worker: each holds a request (and its body) in memory at once
MAX_QUERY_WORKERS = 32  # per web worker: processes in all are workers x (1 + query_workers), each opening the store
MAX_TIMEOUT = 86_400.0  # a day: gunicorn's own last-resort timeout is derived from it (3x + 30 s)
MAX_ROWS = 1_000_000  # an answer is built whole in memory (in the query worker, then in the web worker), ~hundreds of bytes a row
MAX_BODY = 64 * 2**20  # a body is read whole into memory, in each of workers x threads requests at once
MAX_QUERY_LENGTH = 1_000_000  # a query worker's stack is 1 KiB per character of the limit (workers.stack_for): 1 GiB here
# The engine recurses once per nesting level. Measured with pyoxigraph: 2,000 nested groups run in an 8 MiB thread
# stack (a web worker's thread, where queries run with query_workers 0) and 5,000 overflow it; the query workers'
# 64 MiB stack takes 10,000 and overflows at 20,000. 2,000 is safe in both.
MAX_QUERY_NESTING = 2000
MAX_CACHE_MB = 2**20  # 1 TiB; also never more than the machine's memory (checked when known)
MAX_QUEUE = 10_000  # each waiting query holds a request (a thread of a web worker) until its turn
# An answer is held whole in a query worker, again in the web worker while it is sent, and maybe in the result cache.
MAX_RESULT_BYTES = 2**30


class SettingError(ValueError):
    """One or more settings are outside what they allow; each problem is one line naming the setting."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def default_workers() -> int:
    """Web workers by default: 1 on a machine of at most 2 cores, else 2."""
    return 1 if (os.cpu_count() or 1) <= 2 else 2


def bundled_dir(name: str) -> Path:
    """Return the shipped ``ontology`` or ``data`` folder, installed or in a checkout."""
    installed = Path(__file__).parents[1] / "_bundled" / name
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[3] / name


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


def _setting(default: Any, help: str, allowed: checks.Allowed, parse: Any = None, factory: Any = None) -> Any:
    meta = {"help": help, "parse": parse, "allowed": allowed}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    """All settings; see ``filmgraph settings`` or the README for the table."""

    base_iri: str = _setting(DEFAULT_BASE, "Canonical base IRI of every resource; the data files are written with the default and rewritten to this at load.", checks.base_iri())
    host: str = _setting("127.0.0.1", "Address the server listens on.", checks.host())
    port: int = _setting(8080, "Port the server listens on.", checks.integer(1, 65535), int)
    workers: int = _setting(None, "Web worker processes of the production server; default: 1 on a machine of 1 or 2 cores (one event loop serves many connections, and every process more costs memory: each has its own query workers, whose reads copy the pages of the in-memory engine they touch), else 2.", checks.integer(1, MAX_WORKERS), int, lambda: default_workers())
    threads: int = _setting(8, "Threads per web worker (concurrent requests per worker).", checks.integer(1, MAX_THREADS), int)
    server: str = _setting("granian", "HTTP server of filmgraph serve: granian (asynchronous: an idle, slow or half-sent connection holds no thread; a request reaches a thread once it is whole) or gunicorn (a thread per open connection).", checks.one_of("granian", "gunicorn"))
    header_timeout: float = _setting(10.0, "Seconds a connection may take to send a request's headers, idle keep-alive time included (granian); then it is closed.", checks.seconds(60.0), float)
    body_timeout: float = _setting(10.0, "Seconds a request may take to send its body once its headers are in (granian); past it 408 and the connection is closed.", checks.seconds(MAX_TIMEOUT), float)
    max_client_requests: int = _setting(64, "Requests one client (its address; behind trusted_proxies the address the proxy names) may have in flight in each web worker, still sending its body included (granian); past it 429 with Retry-After at once.", checks.integer(1, 100_000), int)
    lean_sparql: bool = _setting(True, "Answer the common /sparql requests (GET, a POST form or a direct POST of one query) in the event loop, without the app's request objects or a thread (granian); the answers are the app's, byte for byte; no: every request goes through the app.", checks.boolean(), _bool)
    access_log: bool = _setting(False, "Write a line per request to standard error (granian's access log; gunicorn's with --server gunicorn); it costs about a tenth of a millisecond a request.", checks.boolean(), _bool)
    public_url: str = _setting("", "Public URL of the site (scheme://host[:port]/), used in the service description; empty means the request's own host.", checks.url())
    data: tuple[Path, ...] = _setting(None, "Data files (Turtle), separated by the path separator; default: the shipped dataset.", checks.files("data", True), _paths, _default_data)
    ontology: tuple[Path, ...] = _setting(None, "Ontology files loaded with the data.", checks.files("ontology", False), _paths, _default_ontology)
    shapes: Path = _setting(None, "SHACL shapes the data must conform to.", checks.file("shapes"), Path, _default_shapes)
    validate: bool = _setting(True, "Validate the data against the shapes at load; refuse to start when it does not conform.", checks.boolean(), _bool)
    store_path: str = _setting("", "A pre-built on-disk store (filmgraph build) to open read-only instead of loading the files; with store_url, the site index that filmgraph build DIR --store-url wrote for that remote store.", checks.directory())
    index_rules: bool = _setting(True, "Run the consistency rules when a store is built and keep their findings in its site index, so pages read them instead of running the rules in every process; off for data whose rules are too slow to run at build.", checks.boolean(), _bool)
    store_url: str = _setting("", "A remote SPARQL 1.1 query endpoint to serve from instead of the embedded store.", checks.url())
    store_graph: str = _setting("", "Graph of the remote store that holds the dataset: sent as default-graph-uri with every query that names no dataset of its own, and the graph filmgraph load replaces; empty: the store's default graph. Set it for Virtuoso, whose default graph is the union of all its graphs, its system graphs included.", checks.url())
    store_update_url: str = _setting("", "SPARQL 1.1 Update endpoint of the remote store, used by filmgraph load when there is no graph store; empty: store_url with a final /query replaced by /update, else store_url itself.", checks.url())
    store_graph_store_url: str = _setting("", "Graph Store Protocol endpoint of the remote store, used by filmgraph load (PUT of the default graph); empty: looked for beside store_url (Oxigraph /store, Fuseki /data), else SPARQL Update is used.", checks.url())
    query_timeout: float = _setting(10.0, "Time limit of one query, seconds; past it the query is stopped and the client gets 503.", checks.seconds(MAX_TIMEOUT), float)
    max_rows: int = _setting(10000, "Most result rows (or triples) returned by one query; a truncated result says so.", checks.integer(1, MAX_ROWS), int)
    max_body: int = _setting(1_000_000, "Largest accepted request body, bytes (413 above).", checks.integer(1, MAX_BODY), int)
    max_query_length: int = _setting(100_000, "Longest accepted query text, characters (414 for GET, 413 for POST above).", checks.integer(1, MAX_QUERY_LENGTH), int)
    max_query_nesting: int = _setting(1000, "Deepest nesting of a query (brackets open at once; a chained ! counts as one more), so that no query can overflow the engine's stack (400 above).", checks.integer(1, MAX_QUERY_NESTING), int)
    memory_engine_mb: int = _setting(4096, "Largest store (estimated at 400 bytes a triple, MiB) whose client queries run on Oxigraph's in-memory engine, loaded once at start, before the workers are forked (a few times faster than the on-disk store; 2.7 M triples take about 1 GiB, and each query worker copies the pages it reads); above it, or 0, queries read the on-disk store.", checks.cache_mb(MAX_CACHE_MB), int)
    query_workers: int = _setting(2, "Query worker processes per web worker; a runaway query is stopped by ending its worker. 0 (embedded store) runs queries in the web worker with no time limit (and outside the workers' network sandbox), and needs allow_no_time_limit.", checks.integer(0, MAX_QUERY_WORKERS, "0 needs allow_no_time_limit"), int)
    allow_no_time_limit: bool = _setting(False, "Allow query_workers 0 with the embedded store: without query workers no query can be stopped, so queries have no time limit (nor the workers' network sandbox).", checks.boolean(), _bool)
    result_cache_mb: int = _setting(64, "Memory for cached query results per web worker, MiB, counting each answer and its key (the query text and the rest of the request); the data is read-only, so cached answers never go stale; under granian a quarter more keeps whole answers that the event loop sends itself; 0 turns both off.", checks.cache_mb(MAX_CACHE_MB), int)
    query_budget: float = _setting(60.0, "Query time one client may use per query_budget_window, seconds, in each web worker (as the Wikidata Query Service: 60 s per 60 s); past it the client gets 429 with Retry-After. What a query really took counts; a cached answer costs nothing. 0 turns budgets off.", checks.seconds_or_off(MAX_TIMEOUT), float)
    query_budget_window: float = _setting(60.0, "Window of query_budget, seconds: a client's spent query time comes back at query_budget per window.", checks.seconds(MAX_TIMEOUT), float)
    query_queue: int = _setting(4, "Client queries that may wait for a query worker in each web worker; past it 503 with Retry-After at once. Waiting clients are served in turn, one client runs on at most all but one of the workers, and a full queue makes room for a client with fewer queries waiting. Each waiting query holds a request thread: keep query_workers + query_queue below threads.", checks.integer(0, MAX_QUEUE, "0: no query waits"), int)
    trusted_proxies: tuple[str, ...] = _setting((), "Reverse proxies (IP addresses or networks, comma-separated) whose X-Forwarded-For (else Forwarded) names the client a query is charged to; empty: the peer address is the client.", checks.networks(), _list, tuple)
    max_result_bytes: int = _setting(16 * 2**20, "Largest answer to one query, bytes: a longer result is cut at a row (or triple) and says so (X-Result-Truncated), and one row over it alone is a 422.", checks.integer(1024, MAX_RESULT_BYTES), int)
    service_allow: tuple[str, ...] = _setting((), "SERVICE endpoints that queries may call (comma-separated IRIs); empty: SERVICE is refused.", checks.urls(), _list, tuple)
    cors_origins: str = _setting("*", "Access-Control-Allow-Origin for reads.", checks.origin())

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``FILMGRAPH_*`` variables, then explicit overrides (parsed, not range-checked)."""
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


def _fields() -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in dataclasses.fields(Settings)}


def flag(name: str) -> str:
    """The CLI flag of a setting."""
    return "--" + name.replace("_", "-")


def _shown(value: Any) -> str:
    """A value as one line of text: control characters and edge spaces escaped, so the message stays one line."""
    if isinstance(value, tuple):
        text = (os.pathsep if value and isinstance(value[0], Path) else ",").join(map(str, value))
    else:
        text = str(value)
    return text if text and text.isprintable() and text.strip() == text else repr(text)


def _line(name: str, value: Any, reason: str) -> str:
    return f"setting {name} ({flag(name)} / {ENV_PREFIX}{name.upper()}) = {_shown(value)}: {reason}"


def parse_value(name: str, raw: str) -> Any:
    """Parse a setting's text form (environment variable or flag); a bad one raises :class:`SettingError`."""
    f = _fields()[name]
    parse = f.metadata["parse"]
    try:
        return parse(raw) if parse else raw
    except ValueError:
        raise SettingError([_line(name, raw, f"must be {f.metadata['allowed'].text}")]) from None


def _controls(value: Any) -> str | None:
    """The first control character (C0, DEL, C1) in a value's text, if any: none may reach a header, a path or a log line."""
    texts = value if isinstance(value, tuple) else (value,)
    for text in texts:
        for ch in str(text):
            if ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
                return f"U+{ord(ch):04X}"
    return None


FILES = ("data", "ontology", "shapes")


def problems(settings: Settings, texts: Mapping[str, str] | None = None, files: bool | None = None) -> list[str]:
    """One line for each setting whose value is outside what it allows (empty when all are fine).

    ``texts`` are the values as given (flag or variable), shown instead of the parsed ones. The data, ontology and
    shapes files must exist when they are read: with ``files``, or by default when no store is named (the shapes
    only when the data is validated)."""
    return [line for _, line in _problems(settings, texts or {}, files)]


def _problems(settings: Settings, texts: Mapping[str, str], files: bool | None) -> list[tuple[str, str]]:
    if files is None:
        files = not settings.store_path and not settings.store_url
    skip = set() if files else set(FILES)
    if not settings.validate:
        skip.add("shapes")
    out = []
    for name, f in _fields().items():
        if name in skip:
            continue
        value = getattr(settings, name)
        shown = texts.get(name, value)
        control = _controls(value)
        if control is not None:
            out.append((name, _line(name, shown, f"must not contain control characters (found {control})")))
            continue
        reason = f.metadata["allowed"].reason(value)
        if reason is not None:
            out.append((name, _line(name, shown, reason)))
    if settings.query_workers == 0 and not settings.store_url and not settings.allow_no_time_limit:
        out.append(("query_workers", _line(
            "query_workers", texts.get("query_workers", 0),
            f"without query workers no query can be stopped, so queries have no time limit (nor the workers' network sandbox); "
            f"give {flag('allow_no_time_limit')} ({ENV_PREFIX}ALLOW_NO_TIME_LIMIT=yes) to run so, else an integer from 1 to {MAX_QUERY_WORKERS}",
        )))
    return out


def load(environ: Mapping[str, str] | None = None, flags: Mapping[str, str] | None = None, files: bool | None = None, **changes: Any) -> Settings:
    """Settings from ``FILMGRAPH_*`` variables and flag texts (a flag wins), then ``changes``, all checked
    (``files``: see :func:`problems`).

    Raises :class:`SettingError` naming every bad setting: its flag, its variable, its value and what is allowed.
    """
    environ = os.environ if environ is None else environ
    texts = {name: environ[ENV_PREFIX + name.upper()] for name in _fields() if ENV_PREFIX + name.upper() in environ}
    texts.update(flags or {})
    values: dict[str, Any] = {}
    unparsed: list[str] = []
    for name, text in texts.items():
        try:
            values[name] = parse_value(name, text)
        except SettingError as exc:
            unparsed.extend(exc.problems)
    settings = Settings(**values).replace(**changes)
    given = {name: text for name, text in texts.items() if name not in changes}
    found = unparsed + [line for name, line in _problems(settings, given, files) if name in values or name not in texts]
    if found:
        raise SettingError(found)
    return settings


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


def allowed(name: str) -> str:
    """What values a setting allows, in words (shown beside its help)."""
    return str(_fields()[name].metadata["allowed"].text)

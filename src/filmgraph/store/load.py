"""``filmgraph load``: push the validated dataset into a remote store, idempotently.

The dataset is built the way ``serve`` builds it (parsed, rebased, validated
against the shapes) and replaces the remote's default graph:

- by the Graph Store Protocol where there is one (given, or found beside the
  query endpoint: Oxigraph's ``/store``, Fuseki's ``/data``): one ``PUT`` of the
  N-Triples to ``{graph store}?default``, which replaces the graph by definition
  (to Virtuoso, which stalls on one large request: a ``PUT`` of the first
  :data:`GSP_BATCH` triples, then ``POST`` s of the rest);
- else by SPARQL Update: ``CLEAR DEFAULT`` and the first batch in one request,
  then ``INSERT DATA`` batches. Blank node labels are scoped to one request, so
  every triple that shares a blank node travels in the same batch.

With the setting ``store_graph`` (Virtuoso, whose default graph is the union of
all its graphs), the named graph of that IRI is replaced instead of the default
graph. A graph store URL may carry a user and password
(``http://user:password@host/sparql-graph-crud-auth``: Virtuoso's authenticated
graph store); they are sent by HTTP digest or basic authentication, whichever the
store asks for, and never appear in a message.

Run twice, the remote holds the same triples (isomorphic: blank nodes are new).
Readers may see a half-loaded graph during an update load; a graph store PUT
is one request.
"""

from __future__ import annotations

import io
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

import pyoxigraph as ox
from SPARQLWrapper import POST, POSTDIRECTLY, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from .. import formats as F
from ..core.errors import FilmgraphError, Unavailable
from ..core.progress import Phase, Progress
from ..core.settings import Settings
from .embedded import EmbeddedStore
from .remote import AGENT, VIRTUOSO, RemoteStore, remote_message

BATCH = 10_000
SPOOL_BYTES = 16 * 1024 * 1024
# Names of the graph store beside a query endpoint, by server: Oxigraph, Fuseki.
GRAPH_STORE_NAMES = ("store", "data")


@dataclass(frozen=True)
class LoadReport:
    """What a load did: how, where, and the triple counts on both sides."""

    method: str
    target: str
    sent: int
    remote: int

    def to_text(self) -> str:
        """One line for the terminal."""
        return f"loaded {self.sent} triples by {self.method} into {self.target}; the remote default graph now holds {self.remote} triples"


def load(settings: Settings, into: str, graph_store: str = "", update: str = "", timeout: float = 600.0,
         progress: Progress | None = None) -> LoadReport:
    """Build and validate the dataset, then replace the remote store's default graph with it (``progress`` shows the phases)."""
    progress = progress if progress is not None else Progress.off()
    local = EmbeddedStore.from_settings(settings.replace(store_url=""), progress=progress)
    try:
        with progress.phase("reading the dataset", unit="triples") as phase:
            triples = list(local.triples())
            phase.set(len(triples))
    finally:
        local.close()
    graph = settings.store_graph
    remote = RemoteStore(into, settings.base_iri, timeout=timeout, graph=graph)
    gsp = graph_store or discover_graph_store(into, timeout)
    if gsp:
        batch = GSP_BATCH if remote.kind == VIRTUOSO else 0
        put_default_graph(gsp, triples, timeout, progress, graph, batch)
        how = f"PUT, then POSTs of {batch:,} triples" if batch and len(triples) > batch else "PUT"
        method, target = f"Graph Store Protocol {how}", f"{without_user(gsp)}?{graph_query(graph)}"
    else:
        target = update or update_url(into)
        update_in_batches(target, triples, timeout, progress=progress, graph=graph)
        method = f"SPARQL Update (CLEAR {f'GRAPH <{graph}>' if graph else 'DEFAULT'}, INSERT DATA)"
    return LoadReport(method, target, len(triples), len(remote))


def graph_query(graph: str) -> str:
    """The graph store's query string for one graph: ``graph=IRI``, or ``default``."""
    return urllib.parse.urlencode({"graph": graph}) if graph else "default"


def without_user(url: str) -> str:
    """The URL without its user and password (for messages)."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _opener(url: str) -> tuple[str, urllib.request.OpenerDirector]:
    """The URL without credentials and an opener that answers the store's digest or basic challenge with them."""
    parts = urllib.parse.urlsplit(url)
    handlers: list[urllib.request.BaseHandler] = []
    if parts.username is not None:
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        passwords.add_password(None, without_user(url), urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or ""))
        handlers = [urllib.request.HTTPDigestAuthHandler(passwords), urllib.request.HTTPBasicAuthHandler(passwords)]
    return without_user(url), urllib.request.build_opener(*handlers)


def update_url(query_url: str) -> str:
    """The update endpoint beside a query endpoint: ``.../query`` -> ``.../update``, else the same URL."""
    parts = urllib.parse.urlsplit(query_url)
    head, _, last = parts.path.rpartition("/")
    if last == "query":
        return urllib.parse.urlunsplit(parts._replace(path=f"{head}/update", query=""))
    return query_url


def discover_graph_store(query_url: str, timeout: float = 10.0) -> str:
    """A Graph Store Protocol endpoint beside the query endpoint that answers for the default graph, or ''."""
    parts = urllib.parse.urlsplit(query_url)
    head = parts.path.rpartition("/")[0]
    for name in GRAPH_STORE_NAMES:
        candidate = urllib.parse.urlunsplit(parts._replace(path=f"{head}/{name}", query="", fragment=""))
        request = urllib.request.Request(f"{candidate}?default", method="HEAD", headers={"User-Agent": AGENT})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if response.status in (200, 204):
                    return candidate
        except urllib.error.HTTPError:
            continue
        except (urllib.error.URLError, OSError) as exc:
            raise Unavailable(f"the remote store at {query_url} is unreachable: {getattr(exc, 'reason', exc)}") from None
    return ""


class _Sent(io.RawIOBase):
    """A request body read through, its bytes counted into a progress phase as they are sent."""

    def __init__(self, body: IO[bytes], phase: Phase) -> None:
        self.body = body
        self.phase = phase

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        data = self.body.read(size)
        self.phase.advance(len(data))
        return data


GSP_BATCH = 200_000
"""Triples per graph store request to a store that takes a large graph badly in one request (Virtuoso: one
transaction each; a 2.7 M-triple PUT stalled it)."""


def put_default_graph(graph_store: str, triples: Iterable[ox.Triple], timeout: float, progress: Progress | None = None, graph: str = "",
                      batch: int = 0) -> None:
    """Replace the default graph (or ``graph``) with a Graph Store Protocol PUT of the triples as N-Triples.

    With ``batch``, a larger graph goes as a PUT of its first ``batch`` triples and POSTs (merges) of the
    rest, the triples that share a blank node in one request (readers may see part of it meanwhile)."""
    progress = progress if progress is not None else Progress.off()
    shown = without_user(graph_store)
    listed = list(triples) if batch else None
    parts: Iterable[Iterable[ox.Triple]] = batches(listed, batch) if listed is not None and len(listed) > batch else [listed if listed is not None else triples]
    with progress.phase(f"sending to {shown}", unit="B") as phase:
        for n, part in enumerate(parts):
            _send_graph("PUT" if n == 0 else "POST", graph_store, part, timeout, graph, phase)


def _send_graph(method: str, graph_store: str, triples: Iterable[ox.Triple], timeout: float, graph: str, phase: Phase) -> None:
    """One graph store request with the triples as N-Triples (spooled to disk when large)."""
    shown, opener = _opener(graph_store)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as body:
        ox.serialize(triples, body, ox.RdfFormat.N_TRIPLES)
        size = body.tell()
        body.seek(0)
        request = urllib.request.Request(
            f"{shown}?{graph_query(graph)}",
            data=_Sent(body, phase),  # type: ignore[arg-type]
            method=method,
            headers={"Content-Type": F.NTRIPLES.media_type, "Content-Length": str(size), "User-Agent": AGENT},
        )
        try:
            if shown != graph_store:
                # Answer the store's challenge before sending: a store that refuses a large body it has not
                # authenticated closes the connection while it is still being sent (Virtuoso does).
                _authorize(request, graph_store, timeout)
            with opener.open(request, timeout=timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:1000].decode("utf-8", "replace").strip()
            raise FilmgraphError(f"the graph store at {shown} refused the {method}: HTTP {exc.code} {exc.reason}: {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise Unavailable(f"the graph store at {shown} is unreachable: {getattr(exc, 'reason', exc)}") from None


def _authorize(request: urllib.request.Request, url: str, timeout: float) -> None:
    """Add the Authorization header for ``request`` from the store's challenge to an empty request (digest or basic)."""
    parts = urllib.parse.urlsplit(url)
    user, password = urllib.parse.unquote(parts.username or ""), urllib.parse.unquote(parts.password or "")
    probe = urllib.request.Request(request.full_url, method="HEAD", headers={"User-Agent": AGENT})
    try:
        with urllib.request.urlopen(probe, timeout=timeout):
            return  # no challenge: nothing to answer
    except urllib.error.HTTPError as exc:
        challenge = exc.headers.get("WWW-Authenticate", "") if exc.code == 401 else ""
        exc.close()
    scheme, _, rest = challenge.partition(" ")
    if scheme.lower() == "digest":
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        passwords.add_password(None, request.full_url, user, password)
        handler = urllib.request.HTTPDigestAuthHandler(passwords)
        fields = urllib.request.parse_keqv_list(urllib.request.parse_http_list(rest))
        answer = handler.get_authorization(request, fields)
        if answer:
            request.add_unredirected_header("Authorization", f"Digest {answer}")
    elif scheme.lower() == "basic":
        import base64

        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        request.add_unredirected_header("Authorization", f"Basic {token}")


def update_in_batches(update_url: str, triples: list[ox.Triple], timeout: float, batch: int = BATCH, progress: Progress | None = None,
                      graph: str = "") -> None:
    """Replace the default graph (or ``graph``) by SPARQL Update: CLEAR with the first batch, then INSERT DATA batches."""
    progress = progress if progress is not None else Progress.off()
    clear = f"CLEAR SILENT GRAPH {ox.NamedNode(graph)}" if graph else "CLEAR DEFAULT"
    into = (f"GRAPH {ox.NamedNode(graph)} {{\n", "}\n") if graph else ("", "")
    first = True
    with progress.phase(f"sending to {update_url}", total=len(triples), unit="triples") as phase:
        for chunk in batches(triples, batch):
            text = (f"{clear} ;\n" if first else "") + "INSERT DATA {\n" + into[0] + _ntriples(chunk) + into[1] + "}\n"
            _update(update_url, text, timeout)
            phase.advance(len(chunk))
            first = False
    if first:
        _update(update_url, clear, timeout)


def batches(triples: list[ox.Triple], size: int) -> Iterator[list[ox.Triple]]:
    """Cut triples into batches of about ``size``, never splitting the triples that share a blank node."""
    parent: dict[ox.BlankNode, ox.BlankNode] = {}

    def root(node: ox.BlankNode) -> ox.BlankNode:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for t in triples:
        if isinstance(t.subject, ox.BlankNode) and isinstance(t.object, ox.BlankNode):
            parent[root(t.subject)] = root(t.object)
    groups: dict[ox.BlankNode, list[ox.Triple]] = {}
    current: list[ox.Triple] = []
    for t in triples:
        node = t.subject if isinstance(t.subject, ox.BlankNode) else t.object if isinstance(t.object, ox.BlankNode) else None
        if node is None:
            current.append(t)
            if len(current) >= size:
                yield current
                current = []
        else:
            groups.setdefault(root(node), []).append(t)
    for group in groups.values():
        current.extend(group)
        if len(current) >= size:
            yield current
            current = []
    if current:
        yield current


def _ntriples(triples: list[ox.Triple]) -> str:
    out = io.BytesIO()
    ox.serialize(triples, out, ox.RdfFormat.N_TRIPLES)
    return out.getvalue().decode("utf-8")


def _update(update_url: str, text: str, timeout: float) -> None:
    wrapper = SPARQLWrapper(update_url, updateEndpoint=update_url, agent=AGENT)
    wrapper.setMethod(POST)
    wrapper.setRequestMethod(POSTDIRECTLY)
    wrapper.setOnlyConneg(True)
    # Set directly: setQuery() sniffs the operation from the text; this one is known.
    wrapper.queryString = text
    wrapper.queryType = "INSERT"
    wrapper.timeout = timeout  # type: ignore[assignment]
    try:
        wrapper.query().response.read()
    except SPARQLWrapperException as exc:  # 400, 401, 404, 414, 500
        raise FilmgraphError(f"the update endpoint {update_url} refused the load: {remote_message(exc)}") from None
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:1000].decode("utf-8", "replace").strip()
        raise FilmgraphError(f"the update endpoint {update_url} refused the load: HTTP {exc.code} {exc.reason}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise Unavailable(f"the update endpoint {update_url} is unreachable: {getattr(exc, 'reason', exc)}") from None

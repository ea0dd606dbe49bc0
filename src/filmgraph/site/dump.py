"""Whole-dataset dumps: streamed serialization, and the on-disk cache the web serves them from.

:func:`write_dump` streams the store in chunks, so a large graph is never
serialized whole in memory. :class:`DumpCache` writes each download once per
process into a temporary directory (written under a temporary name, then
renamed), hashing the bytes as they are written; the web layer then serves
the finished file, which gives Range, ETag and 304 for free.

The ETag of a file is the SHA-256 of its own bytes. The serializers are
deterministic, gzip files carry no time stamp, and blank nodes are labelled by
what they are, not by the store's internal ids (:func:`stable_blank_nodes`):
triples without a blank node are written in the store's order, those with one
last, sorted, each blank node labelled by a hash of its surroundings. So every
process serving the same data (two processes behind a load balancer, one remote
store; or a store built anew from the same files) gives the same bytes and the
same ETag.

Other modules add downloads (e.g. a Mix'n'match catalog) with
:func:`register_download`; the dumps index lists them under the dataset dumps.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import itertools
import json
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from .. import formats as F
from ..formats import jsonld
from .context import site_context
from ..core.cache import Once
from ..formats.langtag import recase_serialized
from ..core.errors import NotFound
from ..core.progress import Phase, Progress
from ..store import Store

if TYPE_CHECKING:
    from .services import Services

CHUNK = 20_000
DUMP_NAME = "filmgraph"
DUMP_FORMATS: tuple[F.Format, ...] = (F.TURTLE, F.NTRIPLES, F.JSONLD)
"""The RDF formats the whole dataset is dumped in, in the order the index lists them."""

Generator = Callable[["Services"], Iterable[bytes]]


def write_dump(store: Store, fmt: F.Format, phase: Phase | None = None) -> Iterator[bytes]:
    """Yield the serialization of every triple of the store, chunk by chunk (counting the triples into ``phase``)."""
    triples = stable_blank_nodes(store.triples())
    triples = triples if phase is None else _counted(triples, phase)
    if fmt is F.JSONLD:
        yield from jsonld.stream_dump(site_context(store), triples)
        return
    if fmt is F.TURTLE:
        # Turtle with prefixes is written per chunk; repeated @prefix lines are valid Turtle
        # but noisy, so the prologue is written once and stripped from later chunks.
        prologue_done = False
        for batch in _batches(triples):
            body = F.serialize_graph(batch, F.TURTLE, store.base_iri)
            if prologue_done:
                body = b"\n".join(line for line in body.split(b"\n") if not line.startswith(b"@prefix ")) + b"\n"
            prologue_done = True
            yield body
        return
    assert isinstance(fmt.oxigraph, ox.RdfFormat)
    for batch in _batches(triples):
        buf = io.BytesIO()
        ox.serialize(batch, buf, fmt.oxigraph)
        yield recase_serialized(buf.getvalue())


LABEL_ROUNDS = 16
"""Most rounds of hashing a blank node's neighbours (a chain of blank nodes longer than this is told apart by its order)."""


def stable_blank_nodes(triples: Iterable[ox.Triple]) -> Iterator[ox.Triple]:
    """The triples with blank nodes relabelled from their content, those with a blank node last and sorted.

    Triples without a blank node pass through as they come. The others are held (in the shipped data and
    the generated graphs, a few hundred: the ontology's lists and restrictions), then each blank node is
    labelled by hashing what it is linked to, refined over its neighbours' labels for up to
    :data:`LABEL_ROUNDS` rounds (colour refinement); nodes still alike are numbered in the order of what
    their triples become. The labels depend on the data only, never on a store's ids."""
    held: list[ox.Triple] = []
    for t in triples:
        if isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode):
            held.append(t)
        else:
            yield t
    if not held:
        return
    names = _blank_labels(held)
    relabel = lambda term: names[term] if isinstance(term, ox.BlankNode) else term  # noqa: E731
    out = [ox.Triple(relabel(t.subject), t.predicate, relabel(t.object)) for t in held]  # type: ignore[arg-type]
    out.sort(key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    yield from out


def _blank_labels(held: list[ox.Triple]) -> dict[ox.BlankNode, ox.BlankNode]:
    nodes = {term for t in held for term in (t.subject, t.object) if isinstance(term, ox.BlankNode)}
    colour = dict.fromkeys(nodes, "")
    edges: dict[ox.BlankNode, list[tuple[str, object, ox.NamedNode]]] = {n: [] for n in nodes}
    for t in held:
        if isinstance(t.subject, ox.BlankNode):
            edges[t.subject].append(("out", t.object, t.predicate))
        if isinstance(t.object, ox.BlankNode):
            edges[t.object].append(("in", t.subject, t.predicate))
    key = lambda term: "_:" + colour[term] if isinstance(term, ox.BlankNode) else str(term)  # noqa: E731
    distinct = 1
    for _ in range(LABEL_ROUNDS):
        colour = {n: hashlib.sha256("\n".join(sorted(f"{d} {p} {key(o)}" for d, o, p in edges[n])).encode()).hexdigest()[:24]
                  for n in nodes}
        now = len(set(colour.values()))
        if now == distinct:
            break
        distinct = now
    alike: dict[str, list[ox.BlankNode]] = {}
    for n in nodes:
        alike.setdefault(colour[n], []).append(n)
    names: dict[ox.BlankNode, ox.BlankNode] = {}
    for c, group in alike.items():
        group.sort(key=lambda n: sorted(f"{d} {p} {key(o)}" for d, o, p in edges[n]))
        for i, n in enumerate(group):
            names[n] = ox.BlankNode(f"b{c}" if len(group) == 1 else f"b{c}x{i}")
    return names


def _counted(triples: Iterator[ox.Triple], phase: Phase) -> Iterator[ox.Triple]:
    for batch in _batches(triples):
        yield from batch
        phase.advance(len(batch))


def _batches(triples: Iterator[ox.Triple]) -> Iterator[list[ox.Triple]]:
    while True:
        batch = list(itertools.islice(triples, CHUNK))
        if not batch:
            return
        yield batch


@dataclass(frozen=True)
class Download:
    """One file of the dumps index: its name, Content-Type, what it is, and how it is made."""

    filename: str
    label: str
    media_type: str
    description: str
    generate: Generator | None = None
    format: F.Format | None = None
    """The RDF format of a dataset dump (also for its gzip variant); None for other downloads."""
    gzip_of: str | None = None
    """For a gzip variant: the file it compresses (made first, then compressed from disk)."""

    @property
    def is_gzip(self) -> bool:
        """True for a gzip file (served as ``application/gzip``, never as a Content-Encoding)."""
        return self.gzip_of is not None


def dataset_downloads() -> list[Download]:
    """The dataset dumps: every dump format, plain and gzipped."""
    out = []
    for fmt in DUMP_FORMATS:
        plain = f"{DUMP_NAME}.{fmt.extension}"
        extra = f" compacted against the site's JSON-LD context (also at {jsonld.CONTEXT_PATH})" if fmt is F.JSONLD else ""
        out.append(Download(plain, fmt.label, fmt.media_type, f"The whole dataset as {fmt.label}{extra}.", _dump_generator(fmt), fmt))
        out.append(
            Download(
                plain + ".gz",
                f"{fmt.label}, gzip",
                F.GZIP,
                f"The same {fmt.label} file, gzip-compressed (a .gz download: unpack it with gunzip).",
                None,
                fmt,
                plain,
            )
        )
    return out


def _dump_generator(fmt: F.Format) -> Generator:
    def generate(services: Services) -> Iterable[bytes]:
        return write_dump(services.store, fmt)

    return generate


_EXTRA: dict[str, Download] = {}
_EXTRA_LOCK = threading.Lock()


def register_download(name: str, filename: str, media_type: str, generator: Generator, description: str) -> None:
    """Add a file to the dumps index, made once per process by ``generator(services)``.

    Registering the same filename again replaces the earlier entry, so calling
    this from an ``init_app`` that runs for several apps is safe. The generator
    must depend on the data only (its output is cached for the process).
    """
    if "/" in filename or filename.startswith(".") or any(d.filename == filename for d in dataset_downloads()):
        raise ValueError(f"download filename {filename!r} is not allowed (a plain name, not one of the dataset dumps)")
    with _EXTRA_LOCK:
        _EXTRA[filename] = Download(filename, name, media_type, description, generator)


def extra_downloads() -> list[Download]:
    """The downloads other modules registered, in registration order."""
    with _EXTRA_LOCK:
        return list(_EXTRA.values())


@dataclass(frozen=True)
class DumpFile:
    """A generated download on disk: where it is, its size and the hash of its bytes."""

    download: Download
    path: Path
    size: int
    sha256: str

    @property
    def etag(self) -> str:
        """The (strong) ETag value: the content hash of the file."""
        return self.sha256


class DumpCache:
    """Generates each download once per process into a temporary directory, on first request."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._dir: Once[Path] = Once(self._make_dir)
        self._files: dict[str, Once[DumpFile]] = {}
        self._lock = threading.Lock()
        self.modified: Once[datetime] = Once(lambda: data_modified(services))
        self.triples: Once[int] = Once(lambda: len(services.store))

    def downloads(self) -> list[Download]:
        """Every download: the dataset dumps, then the registered ones."""
        return dataset_downloads() + extra_downloads()

    def find(self, filename: str) -> Download:
        """The download of this file name, or NotFound listing the offered ones."""
        for d in self.downloads():
            if d.filename == filename:
                return d
        raise NotFound(
            f"no download named {filename!r}; offered: {', '.join(d.filename for d in self.downloads())}",
            filename=filename,
        )

    def file(self, filename: str) -> DumpFile:
        """The generated file (generated now if this process has not yet; concurrent callers wait)."""
        return self._once(self.find(filename)).get()

    def known(self, filename: str) -> DumpFile | None:
        """The generated file if this process has made it already, else None (never generates)."""
        once = self._files.get(filename)
        return once.get() if once is not None and once.ready else None

    def _once(self, download: Download) -> Once[DumpFile]:
        with self._lock:
            once = self._files.get(download.filename)
            if once is None:
                once = self._files[download.filename] = Once(lambda: self._generate(download))
            return once

    def _generate(self, download: Download) -> DumpFile:
        if download.gzip_of is not None:
            source = self.file(download.gzip_of).path
            return self._write(download, _gzip_chunks(source, download.gzip_of))
        assert download.generate is not None
        return self._write(download, download.generate(self.services))

    def _write(self, download: Download, chunks: Iterable[bytes]) -> DumpFile:
        folder = self._dir.get()
        target = folder / download.filename
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".partial-")
        # A large dump takes minutes the first time: the server's log says how far it is, every few seconds.
        progress = Progress("dump", live=False, brief=True)
        try:
            with progress.phase(f"writing {download.filename}", unit="B") as phase, os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    phase.advance(len(chunk))
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        finally:
            progress.close()
        return DumpFile(download, target, size, digest.hexdigest())

    def _make_dir(self) -> Path:
        path = Path(tempfile.mkdtemp(prefix="filmgraph-dumps-"))
        weakref.finalize(self, _remove_dir, str(path), os.getpid())
        return path


def _remove_dir(path: str, owner: int) -> None:
    # A forked child inherits the finalizer; only the process that made the folder removes it.
    if os.getpid() == owner:
        shutil.rmtree(path, ignore_errors=True)


def _gzip_chunks(source: Path, name: str) -> Iterator[bytes]:
    buf = io.BytesIO()
    # mtime=0 and a fixed name: the same input always gives the same bytes (a stable ETag).
    with open(source, "rb") as src, gzip.GzipFile(filename=name, mode="wb", fileobj=buf, mtime=0) as gz:
        while block := src.read(1 << 20):
            gz.write(block)
            if buf.tell():
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
    yield buf.getvalue()


def data_modified(services: Services) -> datetime:
    """When the served data last changed: the build time of a pre-built store, else the newest data file.

    A remote store tells nothing, so its data counts as changed when this process first asks.
    """
    settings = services.settings
    now = datetime.now(timezone.utc).replace(microsecond=0)
    if settings.store_url and settings.store_path:  # a remote store's built index: when it was built, in every process
        try:
            from .remote_index import REMOTE_MARKER

            built = json.loads((Path(settings.store_path) / REMOTE_MARKER).read_text())["built"]
            return datetime.strptime(built, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        except (OSError, ValueError, KeyError):
            return now
    if settings.store_url:
        return now
    if settings.store_path:
        try:
            from ..store.embedded import MARKER

            built = json.loads((Path(settings.store_path) / MARKER).read_text())["built"]
            return datetime.strptime(built, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        except (OSError, ValueError, KeyError):
            return now
    times = [p.stat().st_mtime for p in (*settings.data, *settings.ontology) if p.is_file()]
    if not times:
        return now
    return datetime.fromtimestamp(int(max(times)), timezone.utc)

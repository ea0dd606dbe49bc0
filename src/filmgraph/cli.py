"""The ``filmgraph`` command: thin wrappers over the same services the web app uses."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from .core import settings as S
from .core.errors import FilmgraphError
from .core.progress import Progress

COMMANDS = {
    "serve": "serve the dataset: SPARQL endpoint, pages, dumps, reconciliation (production WSGI server)",
    "validate": "parse the data and check it against the SHACL shapes",
    "check": "run the consistency rules and report impossible or suspicious claims",
    "export": "write the whole dataset in one RDF format",
    "query": "run one SPARQL query against the dataset and print the result",
    "build": "build an on-disk store once, for fast starts (serve --store-path); with --store-url, the site index of that remote store (serve --store-url URL --store-path DIR)",
    "load": "push the validated dataset into a remote SPARQL store, replacing its default graph (serve --store-url)",
    "settings": "print every setting with its environment variable, default and help",
    "link": "propose Wikidata links for review (--endpoint), or turn an accepted review into Turtle (--accept)",
}


def _add_settings(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("settings (each also FILMGRAPH_<NAME> in the environment; checked before anything starts)")
    for name, env, default, help_ in S.table():
        switch = {"nargs": "?", "const": "yes"} if isinstance(getattr(S.Settings(), name), bool) else {}
        group.add_argument(
            S.flag(name), dest=f"setting_{name}", metavar=name.upper(), **switch,  # type: ignore[arg-type]
            help=f"{help_} Allowed: {S.allowed(name)}. [{env}, default {default}]".replace("%", "%%"),
        )


def _settings(args: argparse.Namespace, files: bool | None = None, **changes: object) -> S.Settings:
    """The command's settings from the environment and its flags (then ``changes``), checked: a bad one raises
    :class:`~filmgraph.core.settings.SettingError` before the command opens a store or a port. ``files``: the command
    reads the data files even though a store is named (``load``)."""
    flags = {}
    for f in dataclasses.fields(S.Settings):
        raw = getattr(args, f"setting_{f.name}", None)
        if raw is not None:
            flags[f.name] = raw
    return S.load(None, flags, files, **changes)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="filmgraph", description="A linked-data publisher for film records.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cmds = {name: sub.add_parser(name, help=help_, description=help_) for name, help_ in COMMANDS.items()}
    for name, p in cmds.items():
        if name != "settings":
            _add_settings(p)
    cmds["check"].add_argument("--format", choices=["text", "turtle"], default="text", help="report as readable text or as RDF (Turtle)")
    cmds["check"].add_argument("--fail-on-error", action="store_true", help="exit 1 when a rule finds an impossible claim (for data pipelines)")
    cmds["export"].add_argument("--format", choices=["turtle", "jsonld", "ntriples"], default="turtle", help="RDF format of the export")
    cmds["export"].add_argument("--output", "-o", help="file to write (default: standard output)")
    cmds["export"].add_argument("--mixnmatch", action="store_true", help="write the Mix'n'match catalog (tab-separated films) instead of RDF")
    link = cmds["link"].add_mutually_exclusive_group(required=True)
    link.add_argument("--endpoint", metavar="URL", help="a Wikidata-like SPARQL endpoint to ask for candidates; writes a review file")
    link.add_argument("--accept", metavar="REVIEW", help="a review file whose accepted candidates become Turtle links with provenance")
    link.add_argument("--quickstatements", metavar="REVIEW", help="a review file whose accepted real films become QuickStatements (V1 OUTPUT.txt and CSV OUTPUT.csv; default OUTPUT quickstatements)")
    cmds["link"].add_argument("--output", "-o", help="file to write (default: link-review.json for --endpoint, standard output for --accept); never inside the data folder")
    cmds["link"].add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each query to the endpoint (default 60)")
    cmds["query"].add_argument("sparql", help="the query text, or @file to read it from a file")
    cmds["query"].add_argument("--format", default=None, help="result format (json, xml, csv, tsv; turtle, ntriples, jsonld, rdfxml)")
    cmds["build"].add_argument("path", help="directory to create the store in (must not exist or be empty)")
    for name in ("build", "load", "link", "export"):
        cmds[name].add_argument("--quiet", "-q", action="store_true", help="no progress on standard error (phases, counts, rates, time left)")
    cmds["load"].add_argument("--into", metavar="URL", help="the remote store's SPARQL query endpoint (default: the store_url setting)")
    cmds["load"].add_argument("--graph-store", metavar="URL", help="its Graph Store Protocol endpoint (default: the store_graph_store_url setting, else looked for beside the query endpoint)")
    cmds["load"].add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the remote store to take the data (default 600)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``filmgraph`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(globals()[f"cmd_{args.command}"](args) or 0)
    except S.SettingError as exc:  # one line per bad setting, nothing started
        for problem in exc.problems:
            print(f"filmgraph {args.command}: {problem}", file=sys.stderr)
        return 2
    except FilmgraphError as exc:
        print(f"filmgraph {args.command}: {exc.message}", file=sys.stderr)
        return 1 if exc.status >= 500 else 2
    except ValueError as exc:
        print(f"filmgraph {args.command}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file or directory the command was given cannot be used
        print(f"filmgraph {args.command}: {exc}", file=sys.stderr)
        return 1


def cmd_settings(args: argparse.Namespace) -> int:
    """Print the settings table."""
    for name, env, default, help_ in S.table():
        print(f"{name:21} {env:31} {default!s:24} {help_} Allowed: {S.allowed(name)}.")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Parse and validate the data; exit non-zero naming file, node and rule on failure."""
    from .store.embedded import EmbeddedStore

    settings = _settings(args, validate=True, store_path="", store_url="")
    store = EmbeddedStore.build(settings)
    print(f"valid: {len(store)} triples from {len(settings.data)} data files conform to {settings.shapes.name}")
    return 0


def _open(args: argparse.Namespace, progress: Progress | None = None):  # type: ignore[no-untyped-def]
    from .site.services import Services
    from .store.embedded import EmbeddedStore

    settings = _settings(args)
    if settings.store_url or settings.store_path:
        return Services.build(settings)
    return Services.build(settings, EmbeddedStore.build(settings, progress=progress))


def cmd_check(args: argparse.Namespace) -> int:
    """Run the consistency rules and print the report; with --fail-on-error, exit 1 on an impossible claim."""
    from . import formats as F
    from .truth.rules import run_rules

    svc = _open(args)
    report = run_rules(svc.store)
    if args.format == "turtle":
        sys.stdout.buffer.write(F.serialize_graph(report.to_triples(svc.store.base_iri), F.TURTLE, svc.store.base_iri))
    else:
        print(report.to_text())
    return 1 if args.fail_on_error and report.has_errors else 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write the whole dataset in one RDF format."""
    progress = Progress("export", quiet=args.quiet)
    with _stoppable(progress, f"{args.output or 'the output'} is incomplete"):
        return _export(args, progress)


def _export(args: argparse.Namespace, progress: Progress) -> int:
    from . import formats as F
    from .site.dump import write_dump

    svc = _open(args, progress)
    if args.mixnmatch:
        from .reconcile.mixnmatch import write_catalog

        text = write_catalog(svc.store)
        if args.output:
            Path(args.output).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0
    fmt = {"turtle": F.TURTLE, "jsonld": F.JSONLD, "ntriples": F.NTRIPLES}[args.format]
    out = open(args.output, "wb") if args.output else sys.stdout.buffer
    try:
        with progress.phase(f"writing {args.format}", total=len(svc.store), unit="triples") as phase:
            for chunk in write_dump(svc.store, fmt, phase):
                out.write(chunk)
    finally:
        if args.output:
            out.close()
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    """Run one query with the endpoint's limits and print the result."""
    svc = _open(args)
    text = Path(args.sparql[1:]).read_text() if args.sparql.startswith("@") else args.sparql
    prepared = svc.query.prepare(text, None, [args.format] if args.format else [])
    rendered = svc.query.run(prepared)
    sys.stdout.buffer.write(rendered.body)
    if rendered.truncated and rendered.cut_by == "store":
        print(f"\n(truncated to {rendered.count} rows: the store's own row cap)", file=sys.stderr)
    elif rendered.truncated:
        limit = f"{svc.settings.max_result_bytes} bytes" if rendered.cut_by == "max_result_bytes" else f"{svc.settings.max_rows} rows"
        print(f"\n(truncated to {rendered.count} rows: {rendered.cut_by} is {limit})", file=sys.stderr)
    svc.close()
    return 0


@contextlib.contextmanager
def _stoppable(progress: Progress, left: str) -> Iterator[None]:
    """Turn SIGTERM into a stop like Ctrl-C, and say where a stopped command was (``left``: what it leaves behind)."""
    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop) if threading.current_thread() is threading.main_thread() else None
    try:
        yield
    except KeyboardInterrupt:
        where = progress.current or (f"after {progress.done[-1].name}" if progress.done else "before its first phase")
        done = ", ".join(f"{f.name} {f.seconds:.1f} s" for f in progress.done)
        print(f"filmgraph {progress.command}: stopped during {where}{f' (done: {done})' if done else ''}; {left}", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        progress.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def cmd_build(args: argparse.Namespace) -> int:
    """Build an on-disk store for ``serve --store-path``."""
    import time

    from .store.embedded import EmbeddedStore, building_dir

    started = time.monotonic()
    progress = Progress("build", quiet=args.quiet)
    path = Path(args.path)
    settings = _settings(args, store_path="")
    if settings.store_url:
        from .site.remote_index import build_remote_index

        with _stoppable(progress, f"nothing was left at {path} nor in {building_dir(path)}; run the same command again to build it"):
            index, marker = build_remote_index(settings, path, progress)
        rules = f"{sum(index.counts('finding:').values())} findings of the rules" if index.has_findings else "rules not run (index_rules off)"
        print(f"built {args.path}: site index of {settings.store_url} ({marker['triples']} triples, "
              f"{sum(index.counts('kind:').values())} resources, {rules}) in {time.monotonic() - started:.1f} s")
        return 0
    settings = settings.replace(store_url="")
    with _stoppable(progress, f"nothing was left at {path} nor in {building_dir(path)}; run the same command again to build it"):
        store = EmbeddedStore.build(settings, path, progress=progress)
    index = store.index
    extra = ""
    if index is not None:
        resources = sum(index.counts("kind:").values())
        findings = sum(n for name, n in index.counts("finding:").items())
        rules = f", {findings} findings of the rules" if index.has_findings else ", rules not run (index_rules off)"
        extra = f", site index of {resources} resources ({index.path.stat().st_size / 2**20:.0f} MB){rules}"
    print(f"built {args.path}: {len(store)} triples{extra} in {time.monotonic() - started:.1f} s")
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    """Load the validated dataset into a remote store (idempotent: replaces its default graph)."""
    from .store.load import load

    settings = _settings(args, files=True)
    into = args.into or settings.store_url
    if not into:
        raise ValueError("no remote store: give --into URL (its SPARQL query endpoint) or set store_url")
    progress = Progress("load", quiet=args.quiet)
    with _stoppable(progress, f"{into} may hold part of the data; run the same command again (it replaces the default graph)"):
        report = load(settings, into, args.graph_store or settings.store_graph_store_url, settings.store_update_url, args.timeout, progress)
    print(report.to_text())
    return 0


def cmd_link(args: argparse.Namespace) -> int:
    """Propose Wikidata links for review, or write the accepted ones as Turtle (never into the data)."""
    from .reconcile.commands import link, quickstatements

    if args.quickstatements:
        return quickstatements(_open(args), args.quickstatements, args.output)
    progress = Progress("link", quiet=args.quiet)
    with _stoppable(progress, "nothing was written"):
        return link(_open(args, progress), args.endpoint, args.accept, args.output, args.timeout, progress)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the site on gunicorn (not Flask's development server)."""
    from .web.server import serve

    serve(_settings(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The build's floor: CPU that Oxigraph itself spends on the build's queries, with no Python work around them.

Issue 19 asks for a build within 3x ``oxigraph load`` of the same file. Most of a
build after the load is the engine evaluating SPARQL: the rules (SPARQL by
design, DESIGN.md), the dataset statistics (counts over every triple) and the
index's reads of one property at a time. This evaluates each of them to the end
on a built store, counting rows and nothing else, and prints the CPU seconds.
Their sum, spread perfectly over the cores, is the least time those phases
can take whatever filmgraph's own code does.

    .venv/bin/python bench/engine_floor.py STORE_DIR     # a store made by `filmgraph build`
"""

from __future__ import annotations

import argparse
import time

import pyoxigraph as ox

from filmgraph.core.namespaces import ontology_ns
from filmgraph.sparql.bind import bind
from filmgraph.sparql.query import prefixed_query
from filmgraph.store.index_build import DATES, LABELS, _expand
from filmgraph.store.index_keys import COLLECTIONS
from filmgraph.truth.rules import list_rules


def cpu(store: ox.Store, query: str, substitutions: dict[ox.Variable, ox.Literal | ox.NamedNode] | None = None) -> tuple[float, int]:
    """CPU seconds to evaluate a query to its end, and its rows."""
    started = time.process_time()
    result = store.query(query, substitutions=substitutions)
    if isinstance(result, ox.QueryBoolean):
        return time.process_time() - started, 1
    rows = sum(1 for _ in result)
    return time.process_time() - started, rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("store", help="a store directory made by `filmgraph build`")
    p.add_argument("--base-iri", default="https://w3id.org/filmgraph/")
    args = p.parse_args()
    store, base = ox.Store.read_only(args.store), args.base_iri

    rules = 0.0
    for rule in list_rules():
        # the duplicate rule is Python over one SELECT: that SELECT is its engine part
        query = prefixed_query("duplicate-candidates", base) if rule.check is not None else rule.sparql(base)
        seconds, rows = cpu(store, query)
        rules += seconds
        print(f"rule {rule.name:44s} {seconds:8.2f} s CPU {rows:10,d} rows", flush=True)

    statistics = 0.0
    for name in ("void-counts", "void-classes", "void-properties", "void-entities"):
        subs = {ox.Variable("space"): ox.Literal(base)} if name == "void-entities" else None
        seconds, _ = cpu(store, prefixed_query(name, base), subs)
        statistics += seconds
        print(f"statistics {name:38s} {seconds:8.2f} s CPU", flush=True)

    fg = ontology_ns(base)
    index = 0.0
    members = prefixed_query("index-members", base)
    # bound as the build binds them: a VALUES block (a substitution is not a pattern Oxigraph plans from)
    for groups in COLLECTIONS.values():
        for _, type_name in groups:
            index += cpu(store, bind(members, {"type": ox.NamedNode(_expand(type_name, base))}))[0]
    read = prefixed_query("index-property", base)
    properties = ["identificationStatus", "identifiedAs", *(p for _, p in LABELS), *DATES, "yearNumber", "releaseYear", "listPosition", "assessment"]
    for name in properties:
        index += cpu(store, bind(read, {"p": ox.NamedNode(name if ":" in name else fg + name)}))[0]
    print(f"index reads ({len(properties)} properties and the members){'':10s} {index:8.2f} s CPU", flush=True)
    total = rules + statistics + index
    print(f"\nengine only: rules {rules:.1f} + statistics {statistics:.1f} + index reads {index:.1f} = {total:.1f} s CPU")


if __name__ == "__main__":
    main()

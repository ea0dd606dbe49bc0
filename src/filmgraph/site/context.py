"""The JSON-LD context of this site's store: surveyed whole, or, for a large store, from its statistics and a sample.

The context itself (terms from a survey of triples) is :mod:`filmgraph.formats.jsonld_context`; which triples
are surveyed depends on the store and its site index, so it is chosen here.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

import pyoxigraph as ox

from ..formats.jsonld_context import Context, Survey, _Use, build_context
from ..sparql.bind import bind_each
from ..sparql.query import prefixed_query

if TYPE_CHECKING:
    from ..core.dataset import Store
    from ..store.statistics import Statistics


SURVEY_WHOLE_UP_TO = 500_000
"""A store up to this many triples is read whole for its context. A larger one whose site index keeps its
statistics (a store made by ``filmgraph build``) is read by a sample: every property and class of the statistics
gets its term, and what their values are is read from a sample of each class's members."""
SAMPLE_BATCH = 50

_SITE: weakref.WeakKeyDictionary[object, Context] = weakref.WeakKeyDictionary()
_SITE_LOCK = threading.Lock()


def site_context(store: Store) -> Context:
    """The context of a store's site, built once per store and process."""
    with _SITE_LOCK:
        found = _SITE.get(store)
        if found is None:
            index = getattr(store, "index", None)
            stats = index.statistics() if index is not None else None
            if stats is not None and stats.triples > SURVEY_WHOLE_UP_TO:
                found = Context(store.base_iri, sampled_survey(store, stats))
            else:
                found = build_context(store.base_iri, store.triples())
            _SITE[store] = found
        return found


def sampled_survey(store: Store, stats: Statistics) -> Survey:
    """A survey of a large store from its statistics (every property and class) and a sample of each class's
    members (``jsonld-sample-members.rq``): what a property's values are is read from the sample."""
    base = store.base_iri
    members_query = prefixed_query("jsonld-sample-members", base)
    triples_query = prefixed_query("jsonld-sample-triples", base)
    survey = Survey()
    seen: set[object] = set()
    for part in stats.class_partitions:
        found = store.select(members_query, {"class": ox.NamedNode(part.iri)})
        # Blank nodes cannot be bound in a query; their properties still get terms from the statistics.
        members = [row["s"] for row in found if isinstance(row["s"], ox.NamedNode) and row["s"] not in seen]
        seen.update(members)
        for at in range(0, len(members), SAMPLE_BATCH):
            rows = store.select(bind_each(triples_query, "s", members[at:at + SAMPLE_BATCH]))  # type: ignore[arg-type]
            triples = [ox.Triple(r["s"], r["p"], r["o"]) for r in rows]  # type: ignore[arg-type]
            survey.add(sorted(triples, key=lambda t: str(t.subject)), base)
    for part in stats.property_partitions:
        survey.properties.setdefault(part.iri, _Use())  # a property no sampled member uses: a plain term
    survey.classes.update(part.iri for part in stats.class_partitions)
    return survey

"""sparql: the query service under the limits of DESIGN.md section 6 (no Flask, no backend).

- ``query``: ``QueryService`` (client queries: limits, negotiation, workers, the result cache; the site's
  named queries, ``named_query`` / ``prefixed_query`` over ``filmgraph/queries/*.rq``), ``refuse_update``.
- ``querytext``: the query scan, a reading that agrees with the engine's grammar (``shape``, ``check_services``);
  ``bind``: values bound into query text as a ``VALUES`` block, never pasted.
- ``execute`` (``Job``, ``run_job``) and ``results`` (``Rendered``, the result writers under the row and byte caps).
- ``workers`` and ``sandbox``: query worker processes, denied the network; ``admission``: fair shares and the queue.
- ``resultcache``: answers kept per data version; ``service_description``: the endpoint's SD graph.
"""

from ..core.exports import lazy

__getattr__ = lazy(__name__, {
    "QueryService": "query", "named_query": "query", "prefixed_query": "query", "refuse_update": "query",
    "shape": "querytext", "QueryShape": "querytext", "Job": "execute", "run_job": "execute", "Rendered": "results",
    "describe_service": "service_description",
})

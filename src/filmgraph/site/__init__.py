"""site: the publishing model, what the pages and documents say (no Flask; the views in ``web/`` render it).

- ``services``: ``Services``, a running site opened once from the settings (store, query service, site index,
  the rules' report), used by the web app, the CLI and reconciliation.
- resources: ``describe`` (``Description``: what a document is about, read with named queries), ``page``
  (``resource_page``: the HTML page model), ``claimview`` and ``graphview`` (presenting claims and values),
  ``schemaorg`` (the embedded schema.org JSON-LD).
- the whole dataset: ``home`` and ``timeline``, ``listing`` and ``search`` (over the site index), ``void``
  (the dataset description, VoID + DCAT), ``dump`` (the downloads), ``context`` (the site's JSON-LD context),
  ``ontology_docs``, ``examples`` (the query UI's example queries).
"""

from ..core.exports import lazy

__getattr__ = lazy(__name__, {
    "Services": "services", "Description": "describe", "describe": "describe", "resource_page": "page",
    "build_doc": "ontology_docs", "list_examples": "examples", "write_dump": "dump", "site_context": "context",
})

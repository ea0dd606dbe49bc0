"""What the query UI page (``sparql.html``) needs: the example queries and YASGUI's settings."""

from __future__ import annotations

from typing import Any

from flask import request, url_for

from ..site.examples import examples_fingerprint, list_examples
from ..core.namespaces import prefixes
from .current import services

# A new tab opens on this, after the prefix declarations.
_NEW_TAB_BODY = "SELECT * WHERE {\n  ?s ?p ?o .\n}\nLIMIT 10\n"
_NEW_TAB_PREFIXES = ("fg", "schema", "rdfs")


def context() -> dict[str, Any]:
    """Template variables of the query UI: its JSON settings and the query of the plain form."""
    svc = services()
    base = svc.store.base_iri
    examples = list_examples()
    known = prefixes(base)
    new_tab = "".join(f"PREFIX {p}: <{known[p]}>\n" for p in _NEW_TAB_PREFIXES) + "\n" + _NEW_TAB_BODY
    config = {
        "endpoint": url_for("sparql.endpoint"),
        "siteRoot": request.script_root + "/",
        "baseIri": base,
        # Saved tabs belong to one dataset and one set of examples: another base
        # IRI or changed examples start afresh instead of showing stale queries.
        "persistenceId": f"filmgraph-{examples_fingerprint(examples, base)}",
        "prefixes": known,
        "newTabQuery": new_tab,
        "examples": [{"name": ex.label, "comment": ex.comment, "query": ex.sparql(base)} for ex in examples],
    }
    first = config["examples"][0]["query"] if examples else new_tab
    limits = {
        "timeout": f"{svc.settings.query_timeout:g}",
        "max_rows": svc.settings.max_rows,
        "max_query_length": svc.settings.max_query_length,
        "service_open": bool(svc.settings.service_allow),
        "max_result_mib": f"{svc.settings.max_result_bytes / 2**20:.3g}",
        "budget": f"{svc.settings.query_budget:g}",
        "window": f"{svc.settings.query_budget_window:g}",
    }
    return {"ui_config": config, "examples": config["examples"], "fallback_query": first, "limits": limits}

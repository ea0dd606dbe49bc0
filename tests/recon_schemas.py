"""The reconciliation spec's JSON schemas (acceptance-data/recon-schemas), wired for jsonschema.

Every file of a version's ``schemas/`` folder goes into one ``referencing``
registry under its ``$id``, so relative ``$ref``s (``type.json``, ``lang.json``)
and the Swagger 2.0 schema (``openapi.json``, referenced by ``authentication``)
resolve without any network access. The 0.2 and 1.0-draft folders get separate
registries: both name a schema ``.../specs/draft/schemas/data-extension-property-proposal.json``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

ROOT = Path(__file__).resolve().parents[2] / "shared" / "acceptance-data" / "recon-schemas"
VERSIONS = ("0.2", "1.0-draft")

# Example folders without a schema file of their own: validated against a part of another schema.
SUBSCHEMAS: dict[str, dict[str, str]] = {
    "0.2": {
        "reconciliation-candidate": "reconciliation-result-batch.json#/patternProperties/^.*$/properties/result/items",
        "preview-metadata": "manifest.json#/properties/preview",
        "suggest-metadata": "manifest.json#/properties/suggest",
        "data-extension-metadata": "manifest.json#/properties/extend",
    },
    "1.0-draft": {
        "reconciliation-candidate": "reconciliation-result-batch.json#/properties/results/items/properties/candidates/items",
        "preview-metadata": "manifest.json#/properties/preview",
        "data-extension-metadata": "manifest.json#/properties/extend",
    },
}
# Not checked: flyout-response (no schema), security-scheme (its http_basic_auth example is
# OpenAPI 3, which the Swagger 2.0 schema that manifests reference does not accept).


def available() -> bool:
    """True when the shared schema folder is present beside the checkout."""
    return ROOT.is_dir()


@lru_cache(maxsize=None)
def _schemas(version: str) -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / version / "schemas").glob("*.json"))}


@lru_cache(maxsize=None)
def registry(version: str) -> Registry:
    """Every schema of a version, by its ``$id``."""
    resources = []
    for contents in _schemas(version).values():
        resources.append((contents["$id"].rstrip("#"), Resource.from_contents(contents, default_specification=DRAFT7)))
    return Registry().with_resources(resources)


def validator(version: str, name: str) -> Draft7Validator:
    """A validator for one schema file (``manifest.json``) or a ``file#/pointer`` of a version."""
    file, _, pointer = name.partition("#")
    if file.startswith("http"):
        base = file
    else:
        base = _schemas(version)[file]["$id"].rstrip("#")
    schema: dict[str, Any] = {"$ref": f"{base}#{pointer}"} if pointer else _schemas(version)[file]
    return Draft7Validator(schema, registry=registry(version))


def validate(version: str, name: str, instance: Any) -> None:
    """Raise ``jsonschema.ValidationError`` (the best match) when the instance does not conform."""
    errors = sorted(validator(version, name).iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        from jsonschema.exceptions import best_match

        raise best_match(errors)  # type: ignore[misc]


def examples(version: str) -> list[tuple[str, str, Path]]:
    """(schema name, "valid" or "invalid", file) for every example that has a schema."""
    out = []
    for folder in sorted((ROOT / version / "examples").iterdir()):
        schema = f"{folder.name}.json" if f"{folder.name}.json" in _schemas(version) else SUBSCHEMAS[version].get(folder.name)
        if schema is None:
            continue
        for kind in ("valid", "invalid"):
            for path in sorted((folder / kind).glob("*.json")) if (folder / kind).is_dir() else []:
                out.append((schema, kind, path))
    return out

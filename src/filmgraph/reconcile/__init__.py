"""Linking from Wikidata-style tools: the reconciliation service, the Mix'n'match catalog, link discovery.

No Flask here: :mod:`.service` and :mod:`.extend` speak the W3C reconciliation
protocol (0.2 and 1.0-draft) as plain JSON, :mod:`.matching` scores titles over
the label index that :mod:`.index` reads from the store, :mod:`.mixnmatch`
writes the catalog, and :mod:`.linking` proposes Wikidata links for review.
docs/identifiers.md describes the ids, the scoring and the review file.
"""

"""schema.org JSON-LD embedded in pages, for search engines: honest about what each resource is.

A real film is a ``Movie``. A record of the list is not a film: it is a
``CreativeWork`` (an entry of the list) that is ``about`` a Movie only when it
was identified as one; its page also carries a ``ClaimReview`` of each of its
claims. A claim is a ``ClaimReview`` of what the list claims, as fact-check
consumers read one: the publisher as ``author``, the assessment as a
``Rating`` on a scale (contradicted 1, unverified 2, supported 3) with its name,
and the claim as ``itemReviewed`` with the list as its ``appearance``. No Flask
here.
"""

from __future__ import annotations

import json
from typing import Any

from .graphview import GraphView
from ..core.namespaces import FOAF, PROV, SCHEMA, SKOS, prefixes
from .void import PUBLISHER_NAME, dataset_iri

RATINGS = {"Contradicted": 1, "Unverified": 2, "Supported": 3}
"""The assessment values (local names) on the review scale: worst 1, best 3."""


class SchemaOrg:
    """Builds the schema.org description of one resource from the page's graph."""

    def __init__(self, view: GraphView, base_iri: str, page_url: str, site: str | None = None) -> None:
        self.v = view
        self.base_iri = base_iri
        self.fg = prefixes(base_iri)["fg"]
        self.page_url = page_url
        self.site = site if site is not None else page_url.rsplit("/", 2)[0] + "/"

    def _page(self, iri: str) -> str:
        """The page of a resource of this site (``{site}claim/x.html``)."""
        return f"{self.site}{iri[len(self.base_iri):]}.html" if iri.startswith(self.base_iri) else iri

    def publisher(self) -> dict[str, Any]:
        """The publisher of the dataset, the author of its reviews."""
        return {"@type": "Organization", "@id": f"{dataset_iri(self.base_iri)}#publisher", "name": PUBLISHER_NAME, "url": self.site}

    def _name(self, iri: str) -> str | None:
        name = self.v.name(iri)
        return name.value if name else None

    def _text(self, iri: str, prop: str) -> str | None:
        found = self.v.literals(iri, prop)
        return found[0].value if found else None

    def _ref(self, iri: str, type_: str) -> dict[str, Any]:
        out: dict[str, Any] = {"@type": type_, "@id": iri}
        name = self._name(iri)
        if name:
            out["name"] = name
        return out

    def _same_as(self, iri: str) -> list[str]:
        found: list[str] = []
        for prop in (SCHEMA + "sameAs", FOAF + "isPrimaryTopicOf"):
            for target in self.v.iris(iri, prop):
                if target not in found:
                    found.append(target)
        for imdb in self.v.literals(iri, self.fg + "imdbId"):
            found.append(f"https://www.imdb.com/title/{imdb.value}/")
        return found

    @staticmethod
    def _put(out: dict[str, Any], key: str, value: Any) -> None:
        if value:
            out[key] = value

    def movie(self, iri: str) -> dict[str, Any]:
        """A real film."""
        out: dict[str, Any] = {"@type": "Movie", "@id": iri}
        self._put(out, "name", self._name(iri))
        titles = [lit.value for lit in self.v.literals(iri, self.fg + "originalTitle") + self.v.literals(iri, SKOS + "altLabel")]
        self._put(out, "alternateName", list(dict.fromkeys(titles)))
        self._put(out, "datePublished", self._text(iri, SCHEMA + "datePublished"))
        self._put(out, "director", [self._ref(p, "Person") for p in self.v.iris(iri, SCHEMA + "director")])
        self._put(out, "productionCompany", [self._ref(p, "Organization") for p in self.v.iris(iri, SCHEMA + "productionCompany")])
        self._put(out, "countryOfOrigin", [self._ref(p, "Country") for p in self.v.iris(iri, SCHEMA + "countryOfOrigin")])
        self._put(out, "isBasedOn", [self._ref(p, "CreativeWork") for p in self.v.iris(iri, SCHEMA + "isBasedOn")])
        self._put(out, "description", self._text(iri, SCHEMA + "description"))
        self._put(out, "sameAs", self._same_as(iri))
        return out

    def record(self, iri: str) -> dict[str, Any]:
        """A record of the list: an entry of a creative work, not a film."""
        title = self._text(iri, SCHEMA + "name") or ""
        year = self._text(iri, SCHEMA + "datePublished") or ""
        out: dict[str, Any] = {
            "@type": "CreativeWork",
            "@id": iri,
            "name": f"Entry of a curated film list: {title} ({year})" if year else f"Entry of a curated film list: {title}",
            "description": "A record of a machine-written list of films, published as the list gives it; its statements are assessed as claims.",
        }
        self._put(out, "text", self._text(iri, SCHEMA + "description"))
        self._put(out, "position", self._text(iri, self.fg + "listPosition"))
        lists = self.v.iris(iri, PROV + "wasDerivedFrom")
        if lists:
            out["isPartOf"] = self._ref(lists[0], "CreativeWork")
        if self.fg + "Identified" in self.v.iris(iri, self.fg + "identificationStatus"):
            films = self.v.iris(iri, self.fg + "identifiedAs")
            if films:
                out["about"] = self._ref(films[0], "Movie")
        return out

    def claim(self, iri: str) -> dict[str, Any]:
        """A claim of the list and its assessment, as a fact-check review."""
        assessment = next(iter(self.v.iris(iri, self.fg + "assessment")), "")
        value = assessment[len(self.fg):] if assessment.startswith(self.fg) else ""
        rating: dict[str, Any] = {"@type": "Rating", "alternateName": value or "Not assessed"}
        if value in RATINGS:
            rating.update(ratingValue=RATINGS[value], bestRating=max(RATINGS.values()), worstRating=min(RATINGS.values()))
        out: dict[str, Any] = {"@type": "ClaimReview", "@id": iri, "author": self.publisher(), "reviewRating": rating}
        self._put(out, "claimReviewed", self._text(iri, self.fg + "claimText"))
        self._put(out, "reviewBody", self._text(iri, self.fg + "assessmentNote"))
        item: dict[str, Any] = {"@type": "Claim"}
        records = self.v.iris(iri, self.fg + "about")
        if records:
            item["about"] = self._ref(records[0], "CreativeWork")
        lists = self.v.iris(iri, PROV + "wasDerivedFrom") or (self.v.iris(records[0], PROV + "wasDerivedFrom") if records else [])
        if lists:
            item["appearance"] = self._ref(lists[0], "CreativeWork")
            item["firstAppearance"] = self._ref(lists[0], "CreativeWork")
        out["itemReviewed"] = item
        out["url"] = self._page(iri)
        return out

    def other(self, iri: str) -> dict[str, Any] | None:
        """Missions (events), people, organizations, countries, works and themes."""
        types = set(self.v.types(iri))
        if types & {self.fg + "SpaceMission", self.fg + "Programme", self.fg + "MissionEvent"}:
            type_ = "Event"
        elif SCHEMA + "Person" in types:
            type_ = "Person"
        elif SCHEMA + "Country" in types:
            type_ = "Country"
        elif SCHEMA + "Organization" in types:
            type_ = "Organization"
        elif SCHEMA + "Book" in types:
            type_ = "Book"
        elif SCHEMA + "CreativeWork" in types:
            type_ = "CreativeWork"
        elif SKOS + "Concept" in types:
            type_ = "DefinedTerm"
        else:
            return None
        out: dict[str, Any] = {"@type": type_, "@id": iri}
        self._put(out, "name", self._name(iri))
        self._put(out, "description", self._text(iri, SCHEMA + "description") or self._text(iri, SKOS + "definition"))
        for prop in ("startDate", "endDate", "birthDate", "deathDate", "foundingDate", "datePublished"):
            self._put(out, prop, self._text(iri, SCHEMA + prop))
        self._put(out, "author", [self._ref(p, "Person") for p in self.v.iris(iri, SCHEMA + "author")])
        schemes = self.v.iris(iri, SKOS + "inScheme")
        if schemes:
            out["inDefinedTermSet"] = self._ref(schemes[0], "DefinedTermSet")
        self._put(out, "sameAs", self._same_as(iri))
        return out

    def describe(self, iri: str) -> dict[str, Any] | None:
        """The schema.org object for a resource, or None when nothing honest fits (a year)."""
        types = set(self.v.types(iri))
        if self.fg + "FilmRecord" in types:
            out = self.record(iri)
            claims = sorted(c for c in self.v.subjects() if iri in self.v.iris(c, self.fg + "about") and self.fg + "Claim" in self.v.types(c))
            if claims:
                out["url"] = self.page_url
                return {"@context": "https://schema.org", "@graph": [out, *(self.claim(c) for c in claims)]}
        elif self.fg + "Film" in types or SCHEMA + "Movie" in types:
            out = self.movie(iri)
        elif self.fg + "Claim" in types:
            out = self.claim(iri)
        else:
            found = self.other(iri)
            if found is None:
                return None
            out = found
        out["url"] = self.page_url
        return {"@context": "https://schema.org", **out}


def script_json(data: object) -> str:
    """JSON safe inside a ``<script>`` element (no ``</script>``, no HTML comment openers)."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


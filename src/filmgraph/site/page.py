"""The model of a resource page: what a reader sees about a record, a film, a claim or any other resource.

Built from a :class:`filmgraph.site.describe.Description` and a few extra graphs
(the claims, the identified film) into plain dataclasses that templates render.
Wording for the identification and assessment values lives here; the data and
the ontology decide which applies. No Flask here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Triple

from .claimview import ClaimReader, ClaimView, FindingView

from .describe import Description, Resource, claims_graph, context_graph, describe
from .graphview import GraphView, Presenter, Value
from ..core.namespaces import FOAF, OWL, PROV, RDF, RDFS, SCHEMA, SKOS, prefixes
from ..sparql.query import QueryService
from ..truth.rules import Finding
from .schemaorg import SchemaOrg

STATUS_WORDS = {
    "Identified": ("identified", "Identified", "This entry of the list is a real film."),
    "TitleMatchOnly": ("title-match-only", "Title match only", "A real film has this title, but the list's year or story does not fit it."),
    "ProbableDuplicate": ("probable-duplicate", "Probable duplicate", "This entry is probably another entry of the list again, under another title."),
    "NoMatchFound": ("no-match", "No match found", "No real film matching this entry was found."),
}
"""Identification status (local name) -> (CSS class, badge text, plain words)."""

@dataclass(frozen=True)
class Statement:
    """One row of a table: a property and its values."""

    property: Value
    values: list[Value]


@dataclass(frozen=True)
class Block:
    """The statements of one subject of the document (the resource, or one of its hash children)."""

    anchor: str | None
    title: Value
    rows: list[Statement]


@dataclass
class RealFilmView:
    """A real film: titles in their languages, date, people, and identity links."""

    link: Value
    original_titles: list[Value]
    other_titles: list[Value]
    date: str | None
    directors: list[Value]
    companies: list[Value]
    countries: list[Value]
    based_on: list[Value]
    external: list[Value]


@dataclass
class RecordView:
    """A record of the list: its verbatim values and its identification."""

    position: str | None
    title: Value | None
    year: str | None
    description: Value | None
    fact: Value | None
    source: Value | None
    status: str
    status_label: str
    status_text: str
    note: Value | None
    film: RealFilmView | None
    duplicate_of: list[Value]
    confusions: list[tuple[Value, str | None]]
    findings: list[FindingView]


@dataclass
class ResourcePage:
    """Everything the resource template renders."""

    kind: str
    id: str
    iri: str
    title: Value
    types: list[Value]
    lead: list[Value]
    record: RecordView | None = None
    film: RealFilmView | None = None
    referring: list[Statement] = field(default_factory=list)
    claims: list[ClaimView] = field(default_factory=list)
    events: list[tuple[str, Value, str | None]] = field(default_factory=list)
    external: list[Value] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    inbound: list[Statement] = field(default_factory=list)
    inbound_truncated: bool = False


class PageBuilder:
    """Builds the page of one described resource."""

    def __init__(
        self,
        description: Description,
        base_iri: str,
        term_labels: Mapping[str, str],
        claims: Sequence[Triple] = (),
        film: Sequence[Triple] = (),
        findings: Iterable[Finding] = (),
        root: str = "",
    ) -> None:
        self.d = description
        self.iri = description.resource.iri
        self.fg = prefixes(base_iri)["fg"]
        self.view = GraphView(description.document, description.context, claims, film)
        self.p = Presenter(base_iri, self.view, term_labels, root)
        self.claims = ClaimReader(self.view, self.p, findings)

    # -- helpers ---------------------------------------------------------

    def _fg(self, name: str) -> str:
        return self.fg + name

    def _one(self, subject: str, predicate: str) -> Value | None:
        found = self.p.values(subject, predicate)
        return found[0] if found else None

    def _local_of(self, iri: str | None) -> str | None:
        return iri[len(self.fg):] if iri and iri.startswith(self.fg) else None

    def title(self) -> Value:
        """The page heading: the resource's name, a claim's words, or its id."""
        name = self.view.name(self.iri)
        if name is not None:
            return Value(name.value, name.language)
        text = self.view.literals(self.iri, self._fg("claimText"))
        if text:
            return Value(f"“{text[0].value}”", text[0].language)
        number = self.view.first(self.iri, self._fg("yearNumber"))
        if number is not None:
            return Value(number.value)
        return Value(self.d.resource.id)

    # -- sections ----------------------------------------------------------

    def external_links(self, iri: str) -> list[Value]:
        """Identity links of a thing (Wikidata, Wikipedia, IMDb, ...), a link built from a title pattern marked so."""
        v, p, fg = self.view, self.p, self._fg
        external: list[Value] = []
        seen: set[str] = set()
        for prop in (SCHEMA + "sameAs", OWL + "sameAs", FOAF + "isPrimaryTopicOf"):
            for target in v.iris(iri, prop):
                if target not in seen and p.path(target) is None:
                    seen.add(target)
                    external.append(p.link(target))
        for qualified in v.iris(iri, fg("qualifiedLink")):
            for target in v.iris(qualified, fg("linkTarget")):
                if target not in seen:
                    seen.add(target)
                    link = p.link(target)
                    basis = v.iris(qualified, fg("linkBasis"))
                    note = "address built from the article title, not seen in a source" if fg("TitlePattern") in basis else None
                    external.append(Value(link.text, link.lang, link.href, True, link.title, target, note=note))
        external += p.values(iri, fg("imdbId"))
        external.sort(key=lambda x: x.text)
        return external

    def real_film(self, iri: str) -> RealFilmView:
        """The real film's titles, date, people and identity links."""
        v, p, fg = self.view, self.p, self._fg
        date = v.first(iri, SCHEMA + "datePublished")
        return RealFilmView(
            link=p.link(iri),
            original_titles=p.values(iri, fg("originalTitle")),
            other_titles=[x for x in p.values(iri, SKOS + "altLabel")],
            date=p.value(date).text if date is not None else None,
            directors=p.values(iri, SCHEMA + "director"),
            companies=p.values(iri, SCHEMA + "productionCompany"),
            countries=p.values(iri, SCHEMA + "countryOfOrigin"),
            based_on=p.values(iri, SCHEMA + "isBasedOn"),
            external=self.external_links(iri),
        )

    def record(self) -> RecordView:
        """The record's verbatim values and identification."""
        v, p, fg, iri = self.view, self.p, self._fg, self.iri
        status_iri = next(iter(v.iris(iri, fg("identificationStatus"))), None)
        css, label, words = STATUS_WORDS.get(self._local_of(status_iri) or "", ("unknown", "Not stated", "The data does not say whether this entry matches a real film."))
        identified = v.iris(iri, fg("identifiedAs"))
        year = v.first(iri, SCHEMA + "datePublished")
        position = v.first(iri, fg("listPosition"))
        return RecordView(
            position=position.value if isinstance(position, Literal) else None,
            title=self._one(iri, SCHEMA + "name"),
            year=year.value if isinstance(year, Literal) else None,
            description=self._one(iri, SCHEMA + "description"),
            fact=self._one(iri, fg("factText")),
            source=self._one(iri, PROV + "wasDerivedFrom"),
            status=css,
            status_label=label,
            status_text=words,
            note=self._one(iri, fg("identificationNote")),
            film=self.real_film(identified[0]) if identified else None,
            duplicate_of=p.values(iri, fg("duplicateOf")),
            confusions=[self._with_year(x) for x in v.iris(iri, fg("possibleConfusion"))],
            findings=self.claims.findings(iri),
        )

    def _with_year(self, iri: str) -> tuple[Value, str | None]:
        date = self.view.first(iri, SCHEMA + "datePublished")
        return self.p.link(iri), date.value[:4] if isinstance(date, Literal) else None

    def statements(self, subject: str) -> list[Statement]:
        """All statements of one subject, types first, as property rows."""
        rows = []
        preds = self.view.predicates(subject)
        first = {RDF + "type": 0, SCHEMA + "name": 1, RDFS + "label": 1, SKOS + "prefLabel": 1, SCHEMA + "description": 2}
        preds.sort(key=lambda x: (first.get(x, 3), self.p.term_label(x)))
        for pred in preds:
            prop = Value(self.p.term_label(pred), "en", self.p.path(pred), title=self.p.compact(pred), iri=pred)
            rows.append(Statement(prop, self.p.values(subject, pred)))
        return rows

    def blocks(self) -> list[Block]:
        """The statements of the resource, then of each hash child (anchored by its fragment)."""
        doc = GraphView(self.d.document)
        out = [Block(None, Value("This resource"), self.statements(self.iri))]
        children = sorted(s for s in doc.subjects() if s.startswith(self.iri + "#"))
        for child in children:
            title = self.p.link(child)
            out.append(Block(child.split("#", 1)[1], Value(title.text, title.lang), self.statements(child)))
        return out

    def events(self) -> list[tuple[str, Value, str | None]]:
        """The key events among the hash children, in date order."""
        out = []
        for child in self.view.iris(self.iri, self._fg("keyEvent")):
            if not child.startswith(self.iri + "#"):
                continue
            start = self.view.first(child, SCHEMA + "startDate")
            when = self.p.value(start).text if start is not None else None
            out.append((child.split("#", 1)[1], self.p.link(child), when))
        out.sort(key=lambda e: e[2] or "")
        return out

    def inbound(self) -> list[Statement]:
        """Who points here, grouped by property."""
        grouped: dict[str, list[Value]] = {}
        for link in self.d.inbound:
            name = link.names[0] if link.names else None
            path = self.p.path(link.subject)
            text = name.value if name else (link.subject[len(self.p.base_iri):] if path else link.subject)
            target = "" if link.target == self.iri else f" (at #{link.target.split('#', 1)[1]})"
            value = Value(text + target, name.language if name else None, path or link.subject, path is None, self.p.compact(link.subject), link.subject)
            grouped.setdefault(link.predicate, []).append(value)
        rows = []
        for pred in sorted(grouped, key=self.p.term_label):
            prop = Value(self.p.term_label(pred), "en", self.p.path(pred), title=self.p.compact(pred), iri=pred)
            rows.append(Statement(prop, grouped[pred]))
        return rows

    def build(self) -> ResourcePage:
        """The whole page model."""
        v, fg, iri = self.view, self._fg, self.iri
        types = [self.p.link(t) for t in v.types(iri)]
        lead = []
        for prop in (SCHEMA + "description", SKOS + "definition", RDFS + "comment"):
            lead += self.p.values(iri, prop)
        page = ResourcePage(
            kind=self.d.resource.kind,
            id=self.d.resource.id,
            iri=iri,
            title=self.title(),
            types=types,
            lead=lead,
            blocks=self.blocks(),
            events=self.events(),
            external=self.external_links(iri),
            inbound=self.inbound(),
            inbound_truncated=self.d.inbound_truncated,
        )
        if v.has_type(iri, fg("FilmRecord")):
            page.record = self.record()
            page.lead = []  # a record's description is the list's words, shown verbatim in its section
        if v.has_type(iri, fg("Film")) or v.has_type(iri, SCHEMA + "Movie"):
            page.film = self.real_film(iri)
            page.external = []  # shown with the film's facts
            page.referring = [s for s in page.inbound if s.property.iri in (fg("identifiedAs"), fg("possibleConfusion"))]
        if v.has_type(iri, fg("FilmRecord")) or v.has_type(iri, fg("Claim")):
            page.claims = self.claims.claims(iri)
        return page


def resource_page(
    query: QueryService,
    resource: Resource,
    term_labels: Mapping[str, str],
    findings_about: Callable[[Iterable[str]], Iterable[Finding]],
    page_url: str,
    root: str = "",
) -> tuple[ResourcePage, dict[str, object] | None]:
    """Gather and build the page of an existing resource, with its schema.org description (or None)."""
    base = query.store.base_iri
    fg = prefixes(base)["fg"]
    description = describe(query, resource)
    view = GraphView(description.document, description.context)
    types = set(view.types(resource.iri))
    claims = claims_graph(query, resource.iri) if types & {fg + "FilmRecord", fg + "Claim"} else []
    identified = view.iris(resource.iri, fg + "identifiedAs")
    film = context_graph(query, identified[0]) if identified else []
    # The findings about this resource and its claims (the report may hold a million: ask, do not scan).
    findings = findings_about({resource.iri, *(t.subject.value for t in claims if isinstance(t.subject, NamedNode))})
    builder = PageBuilder(description, base, term_labels, claims, film, findings, root)
    schema = SchemaOrg(builder.view, base, page_url).describe(resource.iri)
    return builder.build(), schema

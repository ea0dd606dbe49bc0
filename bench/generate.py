"""Generate a film graph of the shipped dataset's shape, at any size, as N-Triples.

About 28 triples a film: a record of a list (title, year, description, fact,
status, themes, provenance), one claim about it (text, predicate, object,
assessment, evidence), a real film for every other record (original title,
alternative title, year), and a shared pool of missions and years. The data is
deterministic for a given size (seeded), so runs are comparable.

    python bench/generate.py 10000 bench/data/films-10000.nt
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

BASE = "https://w3id.org/filmgraph/"
FG = BASE + "ontology#"
S = "https://schema.org/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
PROV = "http://www.w3.org/ns/prov#"
SKOS = "http://www.w3.org/2004/02/skos/core#"

WORDS = (
    "star sky moon mars venus voyage dream flight cosmos signal station rescue planet storm nebula red silent "
    "east first space adventure journey orbit comet rocket beacon frontier horizon aurora zenith meteor"
).split()
STATUSES = ("Identified", "TitleMatchOnly", "ProbableDuplicate", "NoMatchFound")
ASSESSMENTS = ("Supported", "Contradicted", "Unverified")
PREDICATES = ("releasedAfter", "inspiredBy", "releasedInYearOf", "depicts")
THEMES = ("mars", "venus", "moon", "space-station", "first-crewed-flight", "signals-from-space", "alien-invasion", "rescue")


def _lit(value: str, lang: str | None = None, dtype: str | None = None) -> str:
    esc = value.replace("\\", "\\\\").replace('"', '\\"')
    if lang:
        return f'"{esc}"@{lang}'
    if dtype:
        return f'"{esc}"^^<{dtype}>'
    return f'"{esc}"'


def generate(films: int, out: object, seed: int = 42) -> int:
    """Write the graph for ``films`` films to a text stream; return the number of triples."""
    rng = random.Random(seed)
    lines: list[str] = []
    count = 0

    def t(s: str, p: str, o: str) -> None:
        lines.append(f"<{s}> <{p}> {o} .\n")

    missions = max(10, films // 20)
    for m in range(missions):
        iri = f"{BASE}mission/m{m}"
        year = 1950 + (m * 7) % 40
        t(iri, RDF_TYPE, f"<{FG}SpaceMission>")
        t(iri, S + "name", _lit(f"Mission {m}", "en"))
        t(iri, S + "startDate", _lit(f"{year}-{1 + m % 12:02d}-{1 + m % 28:02d}", dtype=XSD + "date"))
        t(iri, FG + "year", f"<{BASE}year/{year}>")
    for year in range(1900, 2001):
        t(f"{BASE}year/{year}", RDF_TYPE, f"<{FG}Year>")
        t(f"{BASE}year/{year}", FG + "yearNumber", _lit(str(year), dtype=XSD + "integer"))
    for theme in THEMES:
        t(f"{BASE}theme/{theme}", RDF_TYPE, f"<{SKOS}Concept>")
        t(f"{BASE}theme/{theme}", SKOS + "prefLabel", _lit(theme.replace("-", " "), "en"))
    for i in range(films):
        if len(lines) > 50_000:
            out.write("".join(lines))  # type: ignore[attr-defined]
            count += len(lines)
            lines.clear()
        rec = f"{BASE}film/r{i}"
        year = 1920 + rng.randrange(80)
        title = " ".join(rng.choice(WORDS).capitalize() for _ in range(rng.randrange(2, 5)))
        t(rec, RDF_TYPE, f"<{FG}FilmRecord>")
        t(rec, S + "name", _lit(f"The {title} {i}", "en"))
        t(rec, S + "datePublished", _lit(str(year), dtype=XSD + "gYear"))
        t(rec, FG + "releaseYear", f"<{BASE}year/{year}>")
        t(rec, S + "description", _lit(f"A film about the {title.lower()} and its crew, record {i}.", "en"))
        t(rec, FG + "factText", _lit(f"It was released after mission {i % missions}.", "en"))
        t(rec, FG + "listPosition", _lit(str(i + 1), dtype=XSD + "integer"))
        t(rec, PROV + "wasDerivedFrom", f"<{BASE}work/curated-list>")
        t(rec, FG + "identificationStatus", f"<{FG}{STATUSES[i % 4]}>")
        t(rec, FG + "theme", f"<{BASE}theme/{THEMES[i % len(THEMES)]}>")
        t(rec, FG + "theme", f"<{BASE}theme/{THEMES[(i * 3 + 1) % len(THEMES)]}>")
        claim = f"{BASE}claim/c{i}"
        t(claim, RDF_TYPE, f"<{FG}Claim>")
        t(claim, FG + "claimText", _lit(f"released after mission {i % missions}", "en"))
        t(claim, FG + "about", f"<{rec}>")
        t(claim, FG + "claimSource", f"<{FG}FactField>")
        t(claim, FG + "claimPredicate", f"<{FG}{PREDICATES[i % len(PREDICATES)]}>")
        t(claim, FG + "claimObject", f"<{BASE}mission/m{i % missions}>")
        t(claim, FG + "assessment", f"<{FG}{ASSESSMENTS[i % 3]}>")
        t(claim, FG + "assessmentNote", _lit("Generated for the benchmark.", "en"))
        t(claim, FG + "evidence", f"<{BASE}mission/m{i % missions}>")
        t(claim, PROV + "wasDerivedFrom", f"<{BASE}work/curated-list>")
        t(claim, FG + "mentions", f"<{BASE}mission/m{i % missions}>")
        t(rec, FG + "possibleConfusion", f"<{BASE}film/f{(i // 2) * 2}>")
        if i % 2 == 0:
            real = f"{BASE}film/f{i}"
            t(rec, FG + "identifiedAs", f"<{real}>")
            t(real, RDF_TYPE, f"<{FG}Film>")
            t(real, S + "name", _lit(f"{title} {i}", "en"))
            t(real, FG + "originalTitle", _lit(f"Фильм {i}", "ru"))
            t(real, SKOS + "altLabel", _lit(f"Film {i}", "ru-Latn"))
            t(real, FG + "releaseYear", f"<{BASE}year/{year + rng.randrange(3)}>")
            t(real, S + "director", f"<{BASE}person/p{i % 500}>")
            t(real, S + "datePublished", _lit(str(year), dtype=XSD + "gYear"))
    out.write("".join(lines))  # type: ignore[attr-defined]
    return count + len(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: generate N films into a file."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("films", type=int)
    p.add_argument("output", type=Path)
    args = p.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as out:
        n = generate(args.films, out)
    print(f"{args.output}: {n} triples ({n / max(1, args.films):.1f} a film)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Memos of client-sent text are bounded by size, not only by count (issue 13)."""

from __future__ import annotations

from filmgraph.formats.langtag import canonical
from filmgraph.core.memo import sized_lru
from filmgraph.sparql.querytext import shape


def test_a_sized_memo_keeps_recent_calls_within_its_budget() -> None:
    calls: list[str] = []

    @sized_lru(budget=10_000, maxsize=100)
    def length(text: str) -> int:
        calls.append(text)
        return len(text)

    assert length("abc") == 3 and length("abc") == 3
    assert calls == ["abc"]
    for n in range(200):
        length(f"{n}" + "x" * 500)
        assert length.cache_size() <= 10_000  # type: ignore[attr-defined]
    length("y" * 5_000)  # over an eighth of the budget: answered, not kept
    length("y" * 5_000)
    assert calls.count("y" * 5_000) == 2


def test_the_query_scan_keeps_no_more_than_its_budget_of_long_distinct_queries() -> None:
    for n in range(120):  # 120 distinct queries of 100 KB: 12 MB of text, ~24 MB kept by a count-bounded cache
        shape(f"ASK {{}} # {n} " + "x" * 100_000)
    assert shape.cache_size() <= 8 * 2**20  # type: ignore[attr-defined]


def test_language_tags_of_any_length_are_recased_without_being_kept() -> None:
    tag = "en-" + "-".join(["abcdefgh"] * 20_000)
    assert canonical(tag) == tag
    assert canonical.cache_size() <= 2**18  # type: ignore[attr-defined]

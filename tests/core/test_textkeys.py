"""Title similarity with a threshold: the quick bounds pass over only pairs that could not reach it."""

from __future__ import annotations

from difflib import SequenceMatcher

from hypothesis import given, settings
from hypothesis import strategies as st

from filmgraph.core.textkeys import similarity

# Keys are loose keys: lower-case words, digits, spaces; a small alphabet makes near pairs common.
keys = st.text(alphabet="abcdeo 12", max_size=24)


@settings(max_examples=3000, deadline=None)
@given(keys, keys, st.sampled_from([0.5, 0.8, 0.9, 0.95]))
def test_a_threshold_keeps_exactly_the_pairs_that_reach_it(a: str, b: str, at_least: float) -> None:
    whole = similarity(a, b)
    quick = similarity(a, b, at_least)
    assert (whole >= at_least) == (quick >= at_least)
    if whole >= at_least:
        assert quick == whole


@settings(max_examples=1000, deadline=None)
@given(keys, keys)
def test_without_a_threshold_it_is_difflibs_ratio_with_numbers_kept_apart(a: str, b: str) -> None:
    if a == b or not a or not b:
        return
    ratio = SequenceMatcher(None, a, b, autojunk=False).ratio()
    assert similarity(a, b) in (ratio, ratio * 0.6)

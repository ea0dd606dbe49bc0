"""truth: the consistency rules, computed from the data over any store (no pages, no Flask).

- ``rules``: ``run_rules`` and ``list_rules`` over the rules shipped as ``truth/rules/*.rq`` (one SELECT each, a
  header naming the rule) and those written in Python; ``Rule``, ``Finding``, ``Report``.
- ``duplicates``: the probable-duplicate rule (records alike in title and year), written in Python.
"""

from ..core.exports import lazy

__getattr__ = lazy(__name__, {
    "run_rules": "rules", "list_rules": "rules", "Rule": "rules", "Finding": "rules", "Report": "rules",
    "find_duplicates": "duplicates",
})

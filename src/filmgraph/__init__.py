"""filmgraph: a linked-data publisher for film records.

One wing per job, importing only downward (docs/architecture.md; the contracts in pyproject.toml):
``cli`` > ``web`` > ``reconcile`` > ``site`` > ``store`` > ``truth`` | ``sparql`` > ``formats`` > ``core``.
"""

__version__ = "0.1.0"

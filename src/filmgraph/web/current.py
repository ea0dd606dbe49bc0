"""The services of the app handling the request: what every view reaches the data through.

Apart from the package's ``__init__`` (which builds the app and imports the blueprints), so that no blueprint
imports the module that imports it.
"""

from __future__ import annotations

from flask import current_app

from ..site.services import Services


def services() -> Services:
    """The services of the current app."""
    return current_app.extensions["filmgraph"]  # type: ignore[no-any-return]

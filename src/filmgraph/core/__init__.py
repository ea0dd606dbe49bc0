"""core: what every wing stands on, and nothing above it (standard library and pyoxigraph only).

- ``settings``: the one settings table (name, default, range, help); ``Settings``, ``SettingError``.
- ``errors``: one error root with an HTTP status (``FilmgraphError``, ``NotFound``, ``BadQuery``, ...).
- ``namespaces``: prefixes and namespaces of the data and the ontology.
- ``iris``: the one URL builder (canonical IRIs <-> the site's local paths).
- ``dataset``: the store interface every wing speaks (``Store``, ``Term``, ``Row``, ``Bindings``, ``DatasetSpec``);
  its backends are in ``store/``.
- ``textkeys``: the keys titles are matched and sorted by in every language (``plain_key``, ``loose_key``, ``similarity``).
- small helpers: ``progress`` (long commands' progress), ``cache`` (``Once``), ``memo``, ``owned``
  (temporary files removed with their owner), ``numbers`` (client integers), ``rqheader`` (``.rq`` headers),
  ``exports`` (a wing's public names, imported on first use).
"""

from .errors import FilmgraphError, NotFound
from .settings import Settings, SettingError

__all__ = ["FilmgraphError", "NotFound", "Settings", "SettingError"]

"""store: the read-only dataset behind every service, and the site index built with it (no pages, no Flask).

- the store interface, ``core.dataset`` (``Store``, ``Term``, ``Row``, ``Bindings``, ``DatasetSpec``), re-exported here.
- ``embedded`` (``EmbeddedStore``: Oxigraph in process, in memory or on disk, built and validated from the
  files by ``loader``) and ``remote`` (``RemoteStore``: any SPARQL 1.1 endpoint); ``load`` puts the files
  into either (``filmgraph load``).
- ``index`` (``SiteIndex``, read by every process) and ``index_build`` (``build_index``): what pages need
  fast at any size, built once with the store; ``index_keys``: its tables' contents and keys, shared by both.
- ``statistics``: the dataset's counts and partitions (``Statistics``, ``compute_statistics``), kept in the index.
"""

from __future__ import annotations

from ..core.dataset import Bindings, DatasetSpec, Row, Store, Term

__all__ = ["Bindings", "DatasetSpec", "Row", "Store", "Term"]

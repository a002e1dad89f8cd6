"""Corpus-wide cleaning decisions on Ray: repeated ids, exact and near dedup as shuffles.

:func:`resolve_corpus_decisions_ray` is the Ray twin of
:func:`sciprep.cleaning.corpus_decisions.resolve_corpus_decisions` (same result); the
pipeline uses it when it runs on Ray. :func:`connected_components` is the
large-star/small-star algorithm it uses, over any Ray Dataset of edges.
Ray (``pip install 'sciprep[ray]'``) is imported only when these run.
"""

from sciprep.cleaning.distributed.components import connected_components
from sciprep.cleaning.distributed.resolve import resolve_corpus_decisions_ray

__all__ = ["connected_components", "resolve_corpus_decisions_ray"]

"""Scientific sources -> one document schema -> Parquet shards with a manifest.

Readers (one module per format in :mod:`sciprep.corpus.readers`) turn papers, abstracts,
sequences, compounds and tables into :class:`Document` records with Galactica markup; a
YAML recipe (:func:`load_recipe`) says which sources to read and how to weight them;
:func:`build_corpus` writes ``DIR/shards/*.parquet``, ``DIR/rejects.parquet`` and
``DIR/manifest.json``; :func:`corpus_stats` reports what a corpus holds.

Reader modules are imported on first use of the registry (:func:`get_reader`), never
when this package is imported.
"""

from sciprep.corpus.build import bind_reader, build_corpus
from sciprep.corpus.document import DOCUMENT_SCHEMA, Document, Metadata, Reference, stable_id
from sciprep.corpus.inputs import detect_input_reader, expand_paths, input_problem
from sciprep.corpus.modality import MODALITIES, modality_chars, segments
from sciprep.corpus.prompts import read_prompts, template_fields
from sciprep.corpus.readers import detect_reader, get_reader, register_reader
from sciprep.corpus.recipe import Recipe, SourceSpec, load_recipe, recipe_for_paths, recipe_from_dict
from sciprep.corpus.shards import (
    REJECT_SCHEMA,
    Reject,
    ShardWriter,
    iter_documents,
    list_shards,
    read_documents,
    read_rejects,
    write_documents,
    write_rejects,
)
from sciprep.corpus.splits import is_validation
from sciprep.corpus.stats import CorpusStats, corpus_stats, format_stats

__all__ = [
    "DOCUMENT_SCHEMA",
    "MODALITIES",
    "REJECT_SCHEMA",
    "CorpusStats",
    "Document",
    "Metadata",
    "Recipe",
    "Reference",
    "Reject",
    "ShardWriter",
    "SourceSpec",
    "bind_reader",
    "build_corpus",
    "corpus_stats",
    "detect_input_reader",
    "detect_reader",
    "expand_paths",
    "input_problem",
    "format_stats",
    "get_reader",
    "is_validation",
    "iter_documents",
    "list_shards",
    "load_recipe",
    "modality_chars",
    "read_documents",
    "read_prompts",
    "read_rejects",
    "recipe_for_paths",
    "recipe_from_dict",
    "register_reader",
    "segments",
    "stable_id",
    "template_fields",
    "write_documents",
    "write_rejects",
]

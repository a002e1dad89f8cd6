"""sciprep: raw scientific material -> clean corpus -> modality-aware tokenizer -> science LM -> grounded answers.

Data flows one way, through files a user can open with ordinary tools:
sources -> :mod:`sciprep.corpus` (Parquet shards) -> :mod:`sciprep.cleaning` (Parquet shards)
-> :mod:`sciprep.tokenize` (``tokenizer.json``) -> :mod:`sciprep.training` (safetensors)
-> :mod:`sciprep.query` (answers with their sources).
"""

__version__ = "0.1.0"

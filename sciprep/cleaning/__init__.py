"""Cleaning: science-safe normalisation, filters, PII redaction, decontamination, dedup.

``sciprep clean --in CORPUS --out CLEAN`` (or :class:`Pipeline` in Python) reads a corpus
directory and writes another in the same shard format, plus ``excluded/`` and
``report.json``. Steps follow the tag-then-decide contract of
:mod:`sciprep.cleaning.steps.base`.
"""

from sciprep.cleaning.config import (
    DEFAULT_STEPS,
    default_pipeline,
    load_pipeline,
    pipeline_from_config,
)
from sciprep.cleaning.pipeline import REPORT_FILE, Pipeline
from sciprep.cleaning.report import format_table
from sciprep.cleaning.spans import PROTECTED_KINDS, Segment, segments
from sciprep.cleaning.steps import (
    KEEP,
    STEPS,
    Decision,
    Keep,
    Modify,
    Reject,
    Remove,
    Step,
    StepContext,
    StepParams,
    build_step,
    get_step,
    register_step,
    threshold,
)
from sciprep.cleaning.writepass import EXCLUDED_DIR, ConservationError

__all__ = [
    "DEFAULT_STEPS",
    "EXCLUDED_DIR",
    "KEEP",
    "PROTECTED_KINDS",
    "REPORT_FILE",
    "STEPS",
    "ConservationError",
    "Decision",
    "Keep",
    "Modify",
    "Pipeline",
    "Reject",
    "Remove",
    "Segment",
    "Step",
    "StepContext",
    "StepParams",
    "build_step",
    "default_pipeline",
    "format_table",
    "get_step",
    "load_pipeline",
    "pipeline_from_config",
    "register_step",
    "segments",
    "threshold",
]

"""Lone surrogates: Python strings that have no UTF-8 form.

``json.loads('"\\ud800"')``, ``errors="surrogateescape"`` decoding and string slicing of
UTF-16 data can give a ``str`` holding an unpaired surrogate. Byte-level BPE works on
UTF-8 bytes, so such a string cannot be tokenized; ``tokenizers`` then fails with a
TypeError naming neither the text nor the position. Callers check first and report both.
"""

from __future__ import annotations


def lone_surrogate_index(text: str) -> int | None:
    """The index of the first lone surrogate in ``text``, or None when it has none."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        return err.start
    return None

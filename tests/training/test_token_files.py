"""Token files: versioned header, dtype by vocabulary size, refusal of foreign files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sciprep.training import open_tokens, read_header
from sciprep.training.token_files import HEADER_BYTES, token_dtype, write_header


@pytest.mark.parametrize(("vocab", "dtype"), [(600, np.uint16), (65_536, np.uint16), (65_537, np.uint32)])
def test_dtype_is_the_smallest_that_holds_every_id(vocab: int, dtype: type) -> None:
    assert token_dtype(vocab) == np.dtype(dtype)


def test_uint32_file_round_trips_and_opens_with_plain_numpy(tmp_path: Path) -> None:
    ids = np.array([0, 2, 65_535, 65_536, 120_000], dtype=np.uint32)
    path = tmp_path / "big.tokens"
    with open(path, "wb") as fh:
        write_header(fh, {"dtype": "uint32", "tokens": len(ids), "vocab_size": 120_001})
        fh.seek(HEADER_BYTES)
        fh.write(ids.tobytes())
    assert open_tokens(path).tolist() == ids.tolist()
    header = json.loads(path.read_bytes()[:HEADER_BYTES])
    plain = np.memmap(path, dtype=header["dtype"], mode="r", offset=header["header_bytes"])
    assert plain.tolist() == ids.tolist() and read_header(path)["version"] == 1


def test_file_of_another_format_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "other.bin"
    path.write_bytes(json.dumps({"format": "something-else"}).encode().ljust(HEADER_BYTES))
    with pytest.raises(ValueError, match=r"other\.bin.*re-run `sciprep train pack`"):
        read_header(path)
    (tmp_path / "garbage.bin").write_bytes(b"\xff" * 10)
    with pytest.raises(ValueError, match="not a sciprep token file"):
        read_header(tmp_path / "garbage.bin")

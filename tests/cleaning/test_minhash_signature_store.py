from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sciprep.cleaning.minhash import MinHashConfig, MinHasher, Sketch
from sciprep.cleaning.near_duplicates import candidate_graph, cluster
from sciprep.cleaning.signature_store import (
    SignatureStore,
    concat_stores,
    load_signature_store,
    save_signature_store,
)
from tests.cleaning.conftest import prose


def _store(texts: list[str], config: MinHashConfig | None = None, prefix: str = "d") -> SignatureStore:
    cfg = config or MinHashConfig()
    return SignatureStore(cfg, [f"{prefix}{i}" for i in range(len(texts))], MinHasher(cfg).sketch(texts))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(max_size=80), max_size=6))
def test_store_round_trip_is_exact(tmp_path: Path, texts: list[str]) -> None:
    store = _store(texts, MinHashConfig(ngram=2, num_perm=16, bands=8, rows=2))
    save_signature_store(tmp_path / "store", store)
    back = load_signature_store(tmp_path / "store", expect=store.config)
    assert back.ids == store.ids and back.config == store.config
    for name in ("signatures", "shingles", "offsets"):
        assert np.array_equal(getattr(back.sketch, name), getattr(store.sketch, name))
        assert getattr(back.sketch, name).dtype == getattr(store.sketch, name).dtype


def test_store_files_are_plain_numpy_parquet_and_json(tmp_path: Path) -> None:
    save_signature_store(tmp_path, _store([prose("plain", 50)]))
    assert json.loads((tmp_path / "minhash.json").read_text())["documents"] == 1
    assert np.load(tmp_path / "signatures.npy", allow_pickle=False).shape == (1, 128)


def test_a_later_corpus_is_deduplicated_against_an_earlier_store(tmp_path: Path) -> None:
    paper = prose("version one", 400)
    earlier = _store([paper, prose("other earlier", 400)], prefix="old")
    save_signature_store(tmp_path / "old", earlier)
    reference = load_signature_store(tmp_path / "old", expect=MinHashConfig())
    revised = paper.replace("the", "a", 20)
    new = MinHasher().sketch([prose("brand new", 400), revised])
    both = Sketch.concat([reference.sketch, new], 128)
    graph = candidate_graph(both, MinHashConfig(), first_new=len(reference.ids))
    clusters = cluster(both, graph, 5, priority=[-1, -1, 0, 0])
    assert clusters.keeper.tolist() == [0, 1, 2, 0]


def test_store_with_other_shingle_settings_is_refused(tmp_path: Path) -> None:
    save_signature_store(tmp_path, _store([prose("x", 30)], MinHashConfig(ngram=3)))
    with pytest.raises(ValueError, match="ngram"):
        load_signature_store(tmp_path, expect=MinHashConfig(ngram=5))
    load_signature_store(tmp_path, expect=MinHashConfig(ngram=3, bands=32, rows=4))  # banding may differ


def test_incomplete_store_is_reported(tmp_path: Path) -> None:
    save_signature_store(tmp_path, _store([prose("y", 30)]))
    (tmp_path / "minhash.json").unlink()
    with pytest.raises(FileNotFoundError, match="not a MinHash signature store"):
        load_signature_store(tmp_path)


def test_inconsistent_store_names_the_problem(tmp_path: Path) -> None:
    save_signature_store(tmp_path, _store([prose("z", 30), prose("w", 30)]))
    with open(tmp_path / "shingle_offsets.npy", "wb") as fh:
        np.save(fh, np.array([0, 5], np.int64))
    with pytest.raises(ValueError, match="shingle offsets"):
        load_signature_store(tmp_path)


def test_pickled_arrays_are_not_loaded(tmp_path: Path) -> None:
    save_signature_store(tmp_path, _store([prose("p", 30)]))
    with open(tmp_path / "signatures.npy", "wb") as fh:
        np.save(fh, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="signatures.npy"):
        load_signature_store(tmp_path)


def test_stores_concatenate_in_order() -> None:
    a, b = _store([prose("a", 40)], prefix="a"), _store([prose("b", 40), ""], prefix="b")
    joined = concat_stores([a, b])
    assert joined.ids == ["a0", "b0", "b1"] and len(joined.sketch) == 3
    with pytest.raises(ValueError, match="different MinHash settings"):
        concat_stores([a, _store([], MinHashConfig(seed=1))])

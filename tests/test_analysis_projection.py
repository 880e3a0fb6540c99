"""UMAP projection, its on-disk cache, and plot sampling (groove_core.analysis.projection)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import silhouette_score

from groove_core.analysis.projection import (
    EMBEDDING_DIM,
    Projection,
    ProjectionCache,
    cached_projection,
    project,
    project_in,
    projection_key,
    sample_for_plot,
)
from groove_core.errors import GrooveError, ValidationError
from groove_core.progress import Progress

DIM = EMBEDDING_DIM


def blobs(n_per: int, k: int = 3, *, seed: int = 0, noise: float = 0.5, prefix: str = "fp"):
    """k well-separated gaussian blobs in 384-d, L2-normalised, float32."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, DIM))
    x = np.vstack([c + rng.normal(scale=noise, size=(n_per, DIM)) for c in centers])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    labels = np.repeat(np.arange(k), n_per)
    ids = [f"{prefix}-{i:05d}" for i in range(len(x))]
    return ids, x.astype(np.float32), labels, centers


def more_from(centers: np.ndarray, n: int, *, seed: int, prefix: str, noise: float = 0.5):
    """n extra points drawn from the same blob centres (round-robin)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % len(centers)
    x = centers[labels] + rng.normal(scale=noise, size=(n, DIM))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return [f"{prefix}-{i:05d}" for i in range(n)], x.astype(np.float32), labels


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """300 points in 3 blobs, projected once into a fresh cache."""
    ids, x, labels, centers = blobs(100, 3, seed=1)
    cache = ProjectionCache(tmp_path_factory.mktemp("projcache"))
    stages: list[Progress] = []
    result = project(ids, x, cache=cache, progress=stages.append)
    return {
        "ids": ids,
        "x": x,
        "labels": labels,
        "centers": centers,
        "cache": cache,
        "result": result,
        "stages": stages,
    }


# --------------------------------------------------------------------------- project


def test_projection_shape_ids_in_order_and_finite(base):
    res: Projection = base["result"]
    assert list(res.frame.columns) == ["id", "x", "y"]
    assert len(res.frame) == 300
    assert res.frame["id"].tolist() == base["ids"]
    assert np.isfinite(res.frame[["x", "y"]].to_numpy()).all()
    assert (res.n_fitted, res.n_transformed, res.from_cache, res.method) == (300, 0, False, "umap")
    assert res.key == projection_key(base["ids"], base["x"])


def test_first_fit_reports_progress_stages_ending_in_done(base):
    stages = base["stages"]
    assert stages[-1].stage == "done" and stages[-1].fraction == 1.0
    assert all(p.total == 1 for p in stages)
    assert any(p.stage == "fitting UMAP on 300 points" for p in stages)
    # while UMAP optimises, its epochs are reported (not one jump from start to end)
    epochs = [p for p in stages if "epoch" in p.message]
    assert len(epochs) >= 5 and epochs[-1].fraction == pytest.approx(0.9)
    assert epochs[-1].describe().startswith("fitting UMAP on 300 points 90%: optimising")
    assert all(0.0 <= p.fraction <= 1.0 for p in stages)
    assert [p.done for p in stages] == sorted(p.done for p in stages)


def test_well_separated_blobs_stay_separated_in_2d(base):
    xy = base["result"].frame[["x", "y"]].to_numpy()
    assert silhouette_score(xy, base["labels"]) > 0.5


def test_second_call_comes_from_cache_with_identical_coordinates(base):
    stages: list[str] = []
    again = project(
        base["ids"], base["x"], cache=base["cache"], progress=lambda p: stages.append(p.stage)
    )
    assert again.from_cache and again.method == "cache"
    assert again.key == base["result"].key
    pd.testing.assert_frame_equal(again.frame, base["result"].frame)
    assert stages[-1] == "done"
    assert not any(s.startswith("fitting") for s in stages)


def test_cache_hit_follows_the_input_order(base):
    order = np.random.default_rng(5).permutation(300)
    ids = [base["ids"][i] for i in order]
    again = project(ids, base["x"][order], cache=base["cache"])
    assert again.from_cache
    assert again.frame["id"].tolist() == ids
    expected = base["result"].frame.set_index("id").loc[ids].reset_index()
    pd.testing.assert_frame_equal(again.frame, expected)


def test_ten_new_points_are_placed_by_transform_keeping_old_coordinates(base):
    new_ids, new_x, new_labels = more_from(base["centers"], 10, seed=7, prefix="new")
    ids = base["ids"] + new_ids
    x = np.vstack([base["x"], new_x])
    stages: list[str] = []
    res = project(ids, x, cache=base["cache"], progress=lambda p: stages.append(p.stage))
    assert not res.from_cache
    assert res.method == "transform"
    assert (res.n_fitted, res.n_transformed) == (300, 10)
    assert "placing new points" in stages and stages[-1] == "done"
    assert not any(s.startswith("fitting") for s in stages)
    old = res.frame.iloc[:300].reset_index(drop=True)
    pd.testing.assert_frame_equal(old, base["result"].frame)
    # The new points land with their own blob: nearest blob centre in 2-D.
    xy_old = base["result"].frame[["x", "y"]].to_numpy()
    centres_2d = np.array([xy_old[base["labels"] == k].mean(axis=0) for k in range(3)])
    xy_new = res.frame.iloc[300:][["x", "y"]].to_numpy()
    nearest = np.argmin(((xy_new[:, None, :] - centres_2d[None]) ** 2).sum(-1), axis=1)
    assert (nearest == new_labels).mean() >= 0.9
    # The grown set is itself cached now.
    assert project(ids, x, cache=base["cache"]).from_cache


def test_a_large_change_refits(base):
    new_ids, new_x, _ = more_from(base["centers"], 200, seed=8, prefix="big")
    ids = base["ids"] + new_ids
    res = project(ids, np.vstack([base["x"], new_x]), cache=base["cache"])
    assert res.method == "umap" and not res.from_cache
    assert (res.n_fitted, res.n_transformed) == (500, 0)


def test_only_coordinates_reach_the_disk_and_a_restart_refits_a_superset(tmp_path):
    """No model is written (pickling one cost 55 s at 10,000 points): a new process (a
    fresh cache object on the same folder) reads the coordinates back, but a superset
    has no model to transform with there, so it is fitted again."""
    ids, x, _, centers = blobs(30, 3, seed=6)
    first = ProjectionCache(tmp_path)
    fitted = project(ids, x, cache=first)
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".json", ".npz"]
    restarted = ProjectionCache(tmp_path)
    assert cached_projection(ids, x, cache=restarted).frame.equals(fitted.frame)
    new_ids, new_x, _ = more_from(centers, 3, seed=2, prefix="late")
    grown_ids, grown_x = ids + new_ids, np.vstack([x, new_x])
    assert cached_projection(grown_ids, grown_x, cache=restarted) is None
    assert project(grown_ids, grown_x, cache=restarted).method == "umap"
    assert project_in(tmp_path / "other", ids, x).method == "umap"
    assert project_in(tmp_path / "other", grown_ids, grown_x).method == "transform"


def test_prune_removes_models_pickled_by_earlier_versions(tmp_path):
    cache = ProjectionCache(tmp_path)
    key = _fake_entry(cache, 3)
    old = "ab" * 32
    (tmp_path / f"{old}.joblib").write_bytes(b"pickled model")
    (tmp_path / f"{old}.json").write_text(json.dumps({"format": 1, "key": old}))
    assert old not in cache and cache.entries()[0]["key"] == key
    assert cache.prune(keep=5) == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{key}.json", f"{key}.npz"]


def test_changed_vector_under_an_old_id_is_not_reused(tmp_path):
    ids, x, _, centers = blobs(40, 3, seed=3)
    cache = ProjectionCache(tmp_path)
    project(ids, x, cache=cache)
    x2 = x.copy()
    x2[0] = x[60]  # same id, different vector
    new_ids, new_x, _ = more_from(centers, 2, seed=4, prefix="n")
    res = project(ids + new_ids, np.vstack([x2, new_x]), cache=cache)
    assert res.method == "umap"


def test_other_parameters_do_not_hit_the_cache(base, tmp_path):
    cache = ProjectionCache(tmp_path)
    ids, x = base["ids"][:60], base["x"][:60]
    project(ids, x, cache=cache)
    res = project(ids, x, cache=cache, n_neighbors=5)
    assert not res.from_cache and res.method == "umap"


def test_without_cache_it_still_projects():
    ids, x, _, _ = blobs(10, 2, seed=9)
    res = project(ids, x, cache=None)
    assert len(res.frame) == 20 and not res.from_cache


@pytest.mark.parametrize("n", [0, 1, 2])
def test_tiny_inputs_are_placed_without_umap(n):
    ids, x, _, _ = blobs(1, 3, seed=2)
    stages: list[str] = []
    res = project(ids[:n], x[:n], cache=None, progress=lambda p: stages.append(p.stage))
    assert res.method == "trivial"
    assert res.frame["id"].tolist() == ids[:n]
    assert np.isfinite(res.frame[["x", "y"]].to_numpy()).all()
    assert stages == ["done"]
    again = project(list(reversed(ids[:n])), x[:n][::-1], cache=None)
    assert again.frame.set_index("id").loc[ids[:n]].equals(res.frame.set_index("id"))
    if n == 2:
        assert res.frame["x"].iloc[0] != res.frame["x"].iloc[1]


@pytest.mark.parametrize("n", [3, 4, 6])
def test_small_inputs_clamp_n_neighbors(n, tmp_path):
    ids, x, _, _ = blobs(2, 3, seed=2)
    res = project(ids[:n], x[:n], cache=ProjectionCache(tmp_path), n_neighbors=15)
    assert res.method == "umap" and len(res.frame) == n
    assert np.isfinite(res.frame[["x", "y"]].to_numpy()).all()
    meta = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert meta["umap_params"]["n_neighbors"] == n - 1


def _bad_inputs():
    ids, x, _, _ = blobs(2, 3, seed=2)
    nan = x.copy()
    nan[1, 3] = np.nan
    zero = x.copy()
    zero[2] = 0
    return [
        ("nan", ids, nan),
        ("inf", ids, np.where(np.arange(DIM) == 0, np.inf, x)),
        ("zero row", ids, zero),
        ("1-d", ids[:1], x[0]),
        ("wrong width", ids, x[:, :100]),
        ("3-d", ids, x[None]),
        ("too few ids", ids[:-1], x),
        ("too many ids", [*ids, "extra"], x),
        ("duplicate ids", [ids[0], *ids[:-1]], x),
        ("non-string id", [1, *ids[1:]], x),
        ("empty id", ["", *ids[1:]], x),
        ("single string", "abcdef", x),
        ("strings", ids, np.full((6, DIM), "a")),
    ]


@pytest.mark.parametrize("case", _bad_inputs(), ids=lambda c: c[0])
def test_bad_inputs_raise_validation_error(case):
    _, ids, x = case
    with pytest.raises(ValidationError):
        project(ids, x, cache=None)
    with pytest.raises(ValidationError):
        projection_key(ids, x)


def test_bad_parameters_raise_validation_error():
    ids, x, _, _ = blobs(2, 3, seed=2)
    for kwargs in ({"n_neighbors": 1}, {"n_neighbors": 2.5}, {"min_dist": -1.0}):
        with pytest.raises(ValidationError):
            project(ids, x, cache=None, **kwargs)
    assert issubclass(ValidationError, GrooveError)


# --------------------------------------------------------------------------- key, cache


def test_projection_key_is_order_free_and_content_sensitive():
    ids, x, _, _ = blobs(3, 2, seed=4)
    k = projection_key(ids, x)
    assert len(k) == 64 and int(k, 16) >= 0
    assert projection_key(ids[::-1], x[::-1]) == k
    assert projection_key(ids, x.astype(np.float64)) == k
    y = x.copy()
    y[0, 0] += 1e-3
    assert projection_key(ids, y) != k
    assert projection_key([*ids[:-1], "other"], x) != k
    assert projection_key(ids[:-1], x[:-1]) != k


def _fake_entry(cache: ProjectionCache, seed: int) -> str:
    ids, x, _, _ = blobs(2, 2, seed=seed)
    key = projection_key(ids, x)
    frame = pd.DataFrame({"id": ids, "x": np.arange(4.0), "y": np.zeros(4)})
    cache.put(key, frame, model=None, params={"n_neighbors": 3})
    return key


def test_cache_put_get_metadata_and_prune(tmp_path):
    cache = ProjectionCache(tmp_path / "c")
    keys = [_fake_entry(cache, seed) for seed in range(8)]
    assert len(cache.entries()) == 8 and keys[0] in cache
    entry = cache.get(keys[0])  # most recently used now
    assert entry is not None and entry.frame["x"].tolist() == [0.0, 1.0, 2.0, 3.0]
    meta = entry.meta
    assert meta["n"] == 4 and meta["umap_params"] == {"n_neighbors": 3}
    assert meta["created_at"] > 0 and len(meta["ids"]) == 4
    removed = cache.prune(keep=5)
    assert len(removed) == 3 and len(cache.entries()) == 5
    assert keys[0] in cache  # used last, kept
    assert all(k not in cache for k in removed)
    assert len(list((tmp_path / "c").glob("*.npz"))) == 5
    assert cache.prune(keep=0) and cache.entries() == []


def test_cache_miss_unreadable_entry_and_bad_keys(tmp_path):
    cache = ProjectionCache(tmp_path)
    assert cache.get("0" * 64) is None
    key = _fake_entry(cache, 1)
    (tmp_path / f"{key}.npz").write_bytes(b"not an npz file")
    assert cache.get(key) is None
    for bad in ("../../etc/passwd", "abc", "G" * 64):
        with pytest.raises(ValidationError):
            cache.get(bad)


# --------------------------------------------------------------------------- sampling


def _labelled(n_big: int = 20_000, small: tuple[int, ...] = (7, 3, 1)) -> pd.DataFrame:
    labels = ["noise"] * (n_big // 2) + ["Proposal 1"] * (n_big - n_big // 2)
    for k, size in enumerate(small, start=2):
        labels += [f"Proposal {k}"] * size
    rng = np.random.default_rng(0)
    n = len(labels)
    return pd.DataFrame(
        {
            "id": [f"id{i}" for i in range(n)],
            "x": rng.normal(size=n),
            "y": rng.normal(size=n),
            "cluster": labels,
        }
    )


def test_sample_below_max_shows_everything():
    df = _labelled(100, ())
    out, info = sample_for_plot(df, max_points=100)
    assert len(out) == 100 and info.method == "all" and (info.total, info.shown) == (100, 100)
    assert "100" in info.description
    pd.testing.assert_frame_equal(out, df)


def test_random_sample_exact_count_reproducible_and_described():
    df = _labelled()
    out, info = sample_for_plot(df, max_points=5000)
    assert len(out) == 5000 and out.index.is_monotonic_increasing and out["id"].is_unique
    assert (info.total, info.shown, info.method) == (len(df), 5000, "random")
    assert "5,000" in info.description and f"{len(df):,}" in info.description
    again, _ = sample_for_plot(df, max_points=5000)
    pd.testing.assert_frame_equal(out, again)
    other, _ = sample_for_plot(df, max_points=5000, random_state=1)
    assert not other.index.equals(out.index)


def test_stratified_sample_keeps_every_cluster():
    df = _labelled()
    out, info = sample_for_plot(df, max_points=5000, stratify_by="cluster")
    assert len(out) == 5000 and info.shown == 5000 and info.method == "stratified"
    assert set(out["cluster"]) == set(df["cluster"])
    counts = out["cluster"].value_counts()
    assert counts["Proposal 2"] == 7 and counts["Proposal 3"] == 3 and counts["Proposal 4"] == 1
    assert abs(counts["noise"] - counts["Proposal 1"]) <= 1
    assert "stratified by cluster" in info.description and "seed 0" in info.description
    assert "5,000" in info.description and f"{len(df):,}" in info.description
    again, _ = sample_for_plot(df, max_points=5000, stratify_by="cluster")
    pd.testing.assert_frame_equal(out, again)
    # A plain random sample would very likely lose the 1-point cluster.
    plain, _ = sample_for_plot(df, max_points=50)
    strat, _ = sample_for_plot(df, max_points=50, stratify_by="cluster")
    assert len(strat) == 50 and set(strat["cluster"]) == set(df["cluster"])
    assert len(plain) == 50


def test_stratified_with_more_groups_than_points_says_so():
    df = pd.DataFrame({"id": [f"i{k}" for k in range(30)], "g": [k % 10 for k in range(30)]})
    out, info = sample_for_plot(df, max_points=4, stratify_by="g")
    assert len(out) == 4 and out["g"].is_unique
    assert "4 largest of 10" in info.description


def test_sample_validation():
    df = _labelled(10, ())
    with pytest.raises(ValidationError):
        sample_for_plot(df, max_points=0)
    with pytest.raises(ValidationError):
        sample_for_plot(df, stratify_by="nope")
    with pytest.raises(ValidationError):
        sample_for_plot(df.to_numpy())  # type: ignore[arg-type]

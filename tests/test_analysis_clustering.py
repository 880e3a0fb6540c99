"""HDBSCAN cluster proposals over fingerprint embeddings (groove_core.analysis.clustering)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from groove_core.analysis.clustering import (
    NOISE_LABEL,
    ClusterProposal,
    assign_labels,
    centroid,
    proposal_id_for,
    propose_clusters,
)
from groove_core.errors import ValidationError

DIM = 384


def planted(sizes=(120, 80, 50), *, n_noise: int = 30, seed: int = 0, noise: float = 0.5):
    """Gaussian blobs of the given sizes plus uniform-direction noise, L2-normalised."""
    rng = np.random.default_rng(seed)
    parts, truth = [], []
    for k, size in enumerate(sizes):
        c = rng.normal(size=DIM)
        parts.append(c + rng.normal(scale=noise, size=(size, DIM)))
        truth += [k] * size
    parts.append(rng.normal(size=(n_noise, DIM)))
    truth += [-1] * n_noise
    x = np.vstack(parts)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = [f"fp-{i:04d}" for i in range(len(x))]
    return ids, x.astype(np.float32), np.array(truth)


@pytest.fixture(scope="module")
def data():
    ids, x, truth = planted()
    return ids, x, truth, propose_clusters(ids, x, min_cluster_size=10)


def test_recovers_three_planted_blobs(data):
    ids, _, truth, props = data
    assert len(props) == 3
    assert [p.size for p in props] == sorted((p.size for p in props), reverse=True)
    labels = assign_labels(ids, props)
    found = labels.to_numpy()
    clustered = (truth >= 0) & (found != NOISE_LABEL)
    assert clustered.sum() >= 0.9 * (truth >= 0).sum()
    assert adjusted_rand_score(truth[clustered], found[clustered]) > 0.8
    # Random directions in 384-d are far from everything: mostly noise.
    assert (found[truth < 0] == NOISE_LABEL).mean() >= 0.8


def test_proposal_fields(data):
    ids, x, _, props = data
    index = {i: k for k, i in enumerate(ids)}
    for rank, p in enumerate(props, start=1):
        assert isinstance(p, ClusterProposal)
        assert p.label == f"Proposal {rank}"
        assert p.size == len(p.member_ids) and list(p.member_ids) == sorted(p.member_ids)
        assert p.proposal_id == proposal_id_for(p.member_ids) and p.proposal_id.startswith("prop-")
        assert p.centroid.dtype == np.float32 and p.centroid.shape == (DIM,)
        assert np.linalg.norm(p.centroid) == pytest.approx(1.0, abs=1e-5)
        assert not p.centroid.flags.writeable
        rows = x[[index[m] for m in p.member_ids]]
        np.testing.assert_allclose(p.centroid, centroid(rows), atol=1e-6)
        assert 0.0 < p.mean_probability <= 1.0
        assert p.representative_id in p.member_ids
    with pytest.raises(dataclasses.FrozenInstanceError):
        props[0].size = 1  # type: ignore[misc]
    assert len({p.proposal_id for p in props}) == 3


def test_proposal_ids_are_stable_across_calls_and_row_order(data):
    ids, x, _, props = data
    order = np.random.default_rng(3).permutation(len(ids))
    again = propose_clusters([ids[i] for i in order], x[order], min_cluster_size=10)
    assert [p.proposal_id for p in again] == [p.proposal_id for p in props]
    assert [p.member_ids for p in again] == [p.member_ids for p in props]
    assert again == props  # centroid is left out of equality; everything else matches


def test_stored_members_leave_the_other_proposals_unchanged(data):
    ids, x, truth, props = data
    biggest = props[0]
    taken = set(biggest.member_ids)
    rest = propose_clusters(ids, x, min_cluster_size=10, existing_member_ids=taken)
    assert len(rest) == 2
    assert all(taken.isdisjoint(p.member_ids) for p in rest)
    # accepting one proposal does not change the others (HDBSCAN's input is the same)
    assert [p.member_ids for p in rest] == [p.member_ids for p in props[1:]]
    assert {p.proposal_id for p in rest} == {p.proposal_id for p in props[1:]}
    assert rest[0].label == "Proposal 1"
    every = propose_clusters(ids, x, min_cluster_size=10, existing_member_ids=set(ids))
    assert every == []


def test_partly_stored_cluster_proposes_the_rest_or_nothing(data):
    ids, x, _, props = data
    members = props[0].member_ids
    few = set(members[:5])
    again = propose_clusters(ids, x, min_cluster_size=10, existing_member_ids=few)
    assert again[0].member_ids == tuple(m for m in members if m not in few)
    half = set(members[: (len(members) + 1) // 2])
    again = propose_clusters(ids, x, min_cluster_size=10, existing_member_ids=half)
    assert [p.member_ids for p in again] == [p.member_ids for p in props[1:]]


def test_excluded_fingerprints_are_left_out_of_hdbscan(data):
    ids, x, _, props = data
    known = set(props[1].member_ids)
    again = propose_clusters(ids, x, min_cluster_size=10, exclude_ids=known)
    assert len(again) == 2 and all(known.isdisjoint(p.member_ids) for p in again)
    for found, planted_blob in zip(again, (props[0], props[2]), strict=True):
        assert set(planted_blob.member_ids) <= set(found.member_ids)
        assert found.size <= planted_blob.size + 3  # a noise point may join a blob


def test_too_few_points_give_no_proposals():
    ids, x, _ = planted((3,), n_noise=0)
    assert propose_clusters(ids, x, min_cluster_size=5) == []
    assert propose_clusters([], np.zeros((0, DIM), np.float32)) == []
    few = propose_clusters(ids, x, min_cluster_size=2, min_samples=50)  # clamped
    assert sum(p.size for p in few) <= 3


def test_unnormalised_input_gives_the_same_clusters(data):
    ids, x, _, props = data
    scale = np.random.default_rng(1).uniform(0.5, 3.0, size=(len(ids), 1)).astype(np.float32)
    again = propose_clusters(ids, x * scale, min_cluster_size=10)
    assert [p.member_ids for p in again] == [p.member_ids for p in props]


def test_assign_labels():
    a = ClusterProposal("prop-a", ("a", "b"), np.ones(DIM, np.float32), 2, 0.9, "a", "Proposal 1")
    b = ClusterProposal("prop-b", ("c",), np.ones(DIM, np.float32), 1, 0.9, "c", "Proposal 2")
    s = assign_labels(["c", "z", "a", "b"], [a, b])
    assert isinstance(s, pd.Series) and s.name == "cluster"
    assert s.index.tolist() == ["c", "z", "a", "b"]
    assert s.tolist() == ["Proposal 2", NOISE_LABEL, "Proposal 1", "Proposal 1"]
    assert assign_labels(["x"], []).tolist() == [NOISE_LABEL]
    clash = ClusterProposal("prop-c", ("a",), np.ones(DIM, np.float32), 1, 0.9, "a", "Proposal 3")
    with pytest.raises(ValidationError):
        assign_labels(["a"], [a, clash])


def test_centroid():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, DIM)).astype(np.float32)
    c = centroid(x)
    assert c.dtype == np.float32 and c.shape == (DIM,)
    assert np.linalg.norm(c) == pytest.approx(1.0, abs=1e-6)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    expected = unit.mean(axis=0) / np.linalg.norm(unit.mean(axis=0))
    np.testing.assert_allclose(c, expected, atol=1e-6)
    np.testing.assert_allclose(centroid(x[0]), unit[0], atol=1e-6)  # one vector
    for bad in (np.zeros((0, DIM)), np.vstack([x[0], -x[0]]), np.full((2, DIM), np.nan), x[:, :10]):
        with pytest.raises(ValidationError):
            centroid(bad)


def test_validation_errors():
    ids, x, _ = planted((10,), n_noise=0)
    with pytest.raises(ValidationError):
        propose_clusters(ids[:-1], x)
    with pytest.raises(ValidationError):
        propose_clusters(ids, x[:, :50])
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValidationError):
        propose_clusters(ids, bad)
    for kwargs in ({"min_cluster_size": 1}, {"min_cluster_size": 2.5}, {"min_samples": 0}):
        with pytest.raises(ValidationError):
            propose_clusters(ids, x, **kwargs)

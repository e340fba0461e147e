"""cluster_sub_centroids: momentum update, balance and recovery of clear clusters."""
import pytest
import torch
import torch.nn.functional as F

from hieraseg.models.utils import (FeatureMemory, batched_sinkhorn, cluster_memory,
                                   cluster_sub_centroids, momentum_update_centroids)


def unit(*shape, seed=0):
    return F.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)),
                       dim=-1)


def clustered_classes(num_classes=3, k=4, per=25, dim=16, noise=0.05, seed=0):
    """Features [C, K*per, D] forming K tight clusters per class, and the true cluster."""
    g = torch.Generator().manual_seed(seed)
    centres = F.normalize(torch.randn(num_classes, k, dim, generator=g), dim=-1)
    truth = torch.arange(k).repeat_interleave(per)
    feats, truths = [], []
    for c in range(num_classes):
        perm = torch.randperm(k * per, generator=g)
        x = centres[c, truth[perm]] + noise * torch.randn(k * per, dim, generator=g)
        feats.append(F.normalize(x, dim=-1))
        truths.append(truth[perm])
    return torch.stack(feats), torch.stack(truths), centres


def same_partition(a, b):
    """True when two labelings of the same items induce the same partition."""
    pairs_a = a.unsqueeze(0) == a.unsqueeze(1)
    pairs_b = b.unsqueeze(0) == b.unsqueeze(1)
    return torch.equal(pairs_a, pairs_b)


def test_recovers_clear_clusters_with_balanced_assignments():
    num_classes, k, per = 3, 4, 25
    feats, truth, _ = clustered_classes(num_classes, k, per)
    centroids = unit(num_classes, k, 16, seed=1)
    # Nearest-centroid assignment from a random start is unbalanced ...
    nearest = torch.bmm(feats, centroids.transpose(1, 2)).argmax(-1)
    assert any(torch.bincount(nearest[c], minlength=k).max() > per
               for c in range(num_classes))
    # ... Sinkhorn's equipartition is not; a few steps (momentum 0) recover the clusters.
    for _ in range(5):
        result = cluster_sub_centroids(centroids, feats, momentum=0.0)
        centroids = result.centroids
    for c in range(num_classes):
        assert torch.equal(torch.bincount(result.assignments[c], minlength=k),
                           torch.full((k, ), per))
        assert same_partition(result.assignments[c], truth[c])


def test_momentum_update_moves_only_centroids_with_correct_features():
    num_classes, k, dim, n = 4, 3, 8, 12
    centroids = unit(num_classes, k, dim, seed=2)
    feats = unit(num_classes, n, dim, seed=3)
    valid = torch.ones(num_classes, n, dtype=torch.bool)
    valid[3] = False  # class 3 has no features
    correct = torch.ones(num_classes, n, dtype=torch.bool)
    correct[1] = False  # class 1: features, none classified correctly
    correct[2, n // 2:] = False
    mu = 0.9
    result = cluster_sub_centroids(centroids, feats, valid, correct, momentum=mu)

    assert torch.allclose(result.centroids.norm(dim=-1), torch.ones(num_classes, k),
                          atol=1e-6)
    assert torch.equal(result.centroids[1], centroids[1])
    assert torch.equal(result.centroids[3], centroids[3])
    assert result.empty_classes.tolist() == [False, False, False, True]
    assert (result.assignments[3] == -1).all()
    assert not result.updated[1].any() and not result.updated[3].any()

    # Recompute the update by hand for classes 0 and 2 from the returned assignments.
    for c in (0, 2):
        for j in range(k):
            members = (result.assignments[c] == j) & correct[c]
            if not members.any():
                assert torch.equal(result.centroids[c, j], centroids[c, j])
                continue
            mean = F.normalize(feats[c, members].mean(0), dim=0)
            expected = F.normalize(mu * centroids[c, j] + (1 - mu) * mean, dim=0)
            assert torch.allclose(result.centroids[c, j], expected, atol=1e-6)
            assert int(result.counts[c, j]) == int(members.sum())
    assert result.updated.any()


def test_assignments_are_argmax_of_sinkhorn():
    feats, _, _ = clustered_classes(seed=4)
    centroids = unit(3, 4, 16, seed=5)
    result = cluster_sub_centroids(centroids, feats, epsilon=0.05, iters=3)
    sims = torch.bmm(feats, centroids.transpose(1, 2))
    assert torch.equal(result.assignments, batched_sinkhorn(sims).argmax(-1))


def test_works_on_feature_memory_layout_and_fp16():
    memory = FeatureMemory(3, 10, 16, dtype='float16')
    x = unit(24, 16, seed=6)
    memory.enqueue(x, torch.arange(24) % 2)  # class 2 stays empty
    centroids = unit(3, 4, 16, seed=7)
    result = cluster_sub_centroids(centroids, memory.features, memory.valid,
                                   memory.correct, momentum=0.5)
    assert result.centroids.dtype == torch.float32
    assert torch.equal(result.centroids[2], centroids[2])
    assert result.empty_classes.tolist() == [False, False, True]
    assert torch.allclose(result.centroids.norm(dim=-1), torch.ones(3, 4), atol=1e-6)


def test_momentum_one_keeps_and_zero_replaces():
    centroids = unit(2, 2, 4, seed=8)
    sums = torch.randn(2, 2, 4)
    counts = torch.tensor([[1, 0], [3, 2]])
    same = momentum_update_centroids(centroids, sums, counts, 1.0)
    assert torch.allclose(same, centroids)
    new = momentum_update_centroids(centroids, sums, counts, 0.0)
    assert torch.allclose(new[1], F.normalize(sums[1], dim=-1))
    assert torch.equal(new[0, 1], centroids[0, 1])


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match='momentum'):
        cluster_sub_centroids(unit(2, 2, 4), unit(2, 5, 4), momentum=1.5)
    with pytest.raises(ValueError, match='do not match'):
        cluster_sub_centroids(unit(2, 2, 4), unit(3, 5, 4))


@pytest.mark.parametrize('dtype', ['float32', 'float16'])
@pytest.mark.parametrize('capacity', [12, 60])  # many changes (rebuilds) / few (moves)
def test_incremental_memory_step_matches_stateless_step(dtype, capacity, monkeypatch):
    num_classes, dim, k = 5, 16, 3
    paths = []
    original = FeatureMemory.move_in_sums
    monkeypatch.setattr(FeatureMemory, 'move_in_sums',
                        lambda self, *a: paths.append(a[2] is not None) or original(self, *a))
    memory = FeatureMemory(num_classes, capacity, dim, dtype=dtype, num_sub_centroids=k)
    centroids = unit(num_classes, k, dim, seed=9)
    g = torch.Generator().manual_seed(10)
    for _ in range(8):  # slots get overwritten from the 3rd round on
        x = F.normalize(torch.randn(20, dim, generator=g), dim=-1)
        labels = torch.randint(0, num_classes - 1, (20, ), generator=g)  # last class empty
        memory.enqueue(x, labels, torch.rand(20, generator=g) > 0.3)
        inc = cluster_memory(centroids, memory, momentum=0.5)
        full = cluster_sub_centroids(centroids, memory.features, memory.valid, memory.correct,
                                     momentum=0.5)
        assert torch.equal(inc.assignments, full.assignments)
        assert torch.equal(inc.counts, full.counts)
        assert torch.equal(inc.empty_classes, full.empty_classes)
        assert torch.allclose(inc.centroids, full.centroids, atol=1e-6)
        # The running sums are those of a full recomputation.
        members = (full.assignments.unsqueeze(1) == torch.arange(k).view(1, k, 1)) & \
            (memory.valid & memory.correct).unsqueeze(1)
        sums = torch.bmm(members.double(), memory.features.double())
        assert torch.allclose(memory.assigned_sums, sums, atol=1e-5)
        centroids = full.centroids
    assert inc.empty_classes.tolist() == [False] * 4 + [True]
    if capacity == 60:
        assert any(paths)  # the incremental path ran (not only rebuilds)


def test_cluster_memory_needs_matching_state():
    with pytest.raises(ValueError, match='num_sub_centroids'):
        cluster_memory(unit(2, 2, 4), FeatureMemory(2, 4, 4))
    with pytest.raises(ValueError, match='tracks 3'):
        cluster_memory(unit(2, 2, 4), FeatureMemory(2, 4, 4, num_sub_centroids=3))

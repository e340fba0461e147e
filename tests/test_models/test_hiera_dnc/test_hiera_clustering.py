"""Coarse-level clustering from the per-leaf memory equals clustering, by hand, the
concatenated features of each node's descendant leaves."""
import torch
import torch.nn.functional as F

from hieraseg.models.utils import FeatureMemory, cluster_sub_centroids, init_sub_centroids
from hieraseg.models.utils.hiera_clustering import (cluster_level, init_level_sub_centroids,
                                                    level_members)

ANCESTOR = torch.tensor([0, 0, 1, 2, 2, 2])  # 6 leaves -> 3 nodes (node 1: one leaf)
CAPACITY, DIM, K = 10, 8, 3


def unit(*shape, seed=0):
    return F.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)),
                       dim=-1)


def filled_memory(counts, seed=0):
    """A per-leaf memory with counts[c] features of leaf c, some marked wrong."""
    memory = FeatureMemory(6, CAPACITY, DIM, num_sub_centroids=K)
    labels = torch.cat([torch.full((n, ), c) for c, n in enumerate(counts)])
    feats = unit(labels.numel(), DIM, seed=seed)
    correct = torch.arange(labels.numel()) % 4 != 3
    memory.enqueue(feats, labels, correct)
    return memory


def by_hand(memory, members):
    """[C_l, N, D] features, valid and correct: each node's leaves' slots concatenated,
    in leaf order, padding at the end."""
    rows = []
    for leaves in members:
        leaves = [c for c in leaves.tolist() if c >= 0]
        take = [(c, s) for c in leaves for s in range(int(memory.count[c]))]
        rows.append(take)
    width = max(len(r) for r in rows)
    feats = torch.zeros(len(rows), width, DIM)
    valid = torch.zeros(len(rows), width, dtype=torch.bool)
    correct = torch.zeros(len(rows), width, dtype=torch.bool)
    for v, take in enumerate(rows):
        for i, (c, s) in enumerate(take):
            feats[v, i], valid[v, i], correct[v, i] = memory.features[c, s], True, \
                memory.correct[c, s]
    return feats, valid, correct, rows


def test_level_members_table():
    tables = level_members(ANCESTOR, 3)
    assert torch.equal(tables.members, torch.tensor([[0, 1, -1], [2, -1, -1], [3, 4, 5]]))


def test_cluster_level_equals_clustering_the_concatenated_descendants():
    memory = filled_memory([4, 7, 10, 3, 0, 9])  # leaf 4 empty, leaf 2 full
    tables = level_members(ANCESTOR, 3)
    centroids = unit(3, K, DIM, seed=5)
    result = cluster_level(centroids, memory, tables, momentum=0.7, epsilon=0.05, iters=3)

    feats, valid, correct, rows = by_hand(memory, tables.members)
    ref = cluster_sub_centroids(centroids, feats, valid, correct, momentum=0.7,
                                epsilon=0.05, iters=3)
    assert torch.allclose(result.centroids, ref.centroids, atol=1e-6)
    assert torch.equal(result.counts, ref.counts)
    for v, take in enumerate(rows):
        for i, (c, s) in enumerate(take):
            assert result.assignments[c, s] == ref.assignments[v, i]
    # empty slots carry no assignment
    assert (result.assignments[~memory.valid] == -1).all()
    assert not result.empty_classes.any()


def test_node_without_features_keeps_its_sub_centroids():
    memory = filled_memory([5, 6, 0, 4, 4, 4])  # node 1 (leaf 2 only) has nothing
    centroids = unit(3, K, DIM, seed=6)
    result = cluster_level(centroids, memory, level_members(ANCESTOR, 3), momentum=0.5)
    assert result.empty_classes.tolist() == [False, True, False]
    assert torch.equal(result.centroids[1], centroids[1])
    assert (result.counts[1] == 0).all()


def test_init_level_equals_init_on_the_concatenated_descendants():
    memory = filled_memory([4, 7, 10, 3, 0, 9], seed=2)
    members = level_members(ANCESTOR, 3).members
    feats, valid, _, _ = by_hand(memory, members[[0, 2]])
    expected = init_sub_centroids(feats, valid, K)
    assert torch.allclose(init_level_sub_centroids(memory, members[[0, 2]], K), expected,
                          atol=1e-6)

"""Data-driven initialisation, dead-class rescue and sub-centroid re-seeding (issue 10)."""
import torch
import torch.nn.functional as F

from hieraseg.models.utils import (FeatureMemory, assign_sub_centroids, cluster_memory,
                                   farthest_point_seeds, init_sub_centroids,
                                   reseed_sub_centroids)


def unit(*shape, seed=0):
    return F.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)),
                       dim=-1)


def reference_farthest_point(x, k):
    """One class, written from the definition with Python loops (the test's reference)."""
    mean = x.sum(0)
    chosen = [int((x @ mean).argmax())]
    while len(chosen) < k:
        best = torch.stack([x @ x[j] for j in chosen]).amax(0)
        chosen.append(int(best.argmin()))
    return x[chosen]


def test_farthest_point_seeds_match_the_definition_per_class_with_padding():
    feats = unit(3, 12, 5, seed=1)
    valid = torch.ones(3, 12, dtype=torch.bool)
    valid[1, 7:] = False  # class 1 has 7 features
    valid[2] = False  # class 2 has none
    seeds = farthest_point_seeds(feats, valid, 3)
    assert seeds.shape == (3, 3, 5)
    assert torch.allclose(seeds[0], reference_farthest_point(feats[0], 3))
    assert torch.allclose(seeds[1], reference_farthest_point(feats[1, :7], 3))
    assert torch.equal(seeds[2], torch.zeros(3, 5))


def test_init_recovers_clusters_all_in_the_positive_orthant():
    """Four tight clusters inside the non-negative orthant (pooled ReLU features): random
    unit sub-centroids are out of reach, the data-driven ones sit on the clusters."""
    g = torch.Generator().manual_seed(0)
    centres = F.normalize(torch.rand(2, 4, 16, generator=g) ** 4, dim=-1)
    truth = torch.arange(4).repeat_interleave(10)
    feats = F.normalize(centres[:, truth] + 0.01 * torch.rand(2, 40, 16, generator=g),
                        dim=-1)
    valid = torch.ones(2, 40, dtype=torch.bool)
    init = init_sub_centroids(feats, valid, 4)
    assert torch.allclose(init.norm(dim=-1), torch.ones(2, 4), atol=1e-5)
    # every true cluster has a sub-centroid within cos 0.99 of its centre
    best = torch.einsum('ckd,cjd->cjk', init, centres).amax(-1)
    assert (best > 0.99).all(), best
    assign = assign_sub_centroids(init, feats, valid)
    for c in range(2):
        assert torch.bincount(assign[c], minlength=4).tolist() == [10, 10, 10, 10]


def test_reseed_moves_starved_onto_worst_served_distinct_features():
    cents = unit(2, 3, 6, seed=2)
    feats = unit(2, 10, 6, seed=3)
    valid = torch.ones(2, 10, dtype=torch.bool)
    valid[1, 1:] = False  # class 1: one feature only
    starved = torch.tensor([[True, False, True], [True, True, False]])
    new = reseed_sub_centroids(cents, feats, valid, starved)
    service = torch.einsum('ckd,cnd->cn', cents, feats)
    for n in range(10):
        service[0, n] = (cents[0] @ feats[0, n]).max()
    order = service[0].argsort()
    assert torch.allclose(new[0, 0], feats[0, order[0]])
    assert torch.allclose(new[0, 2], feats[0, order[1]])
    assert torch.equal(new[0, 1], cents[0, 1])
    assert torch.allclose(new[1, 0], feats[1, 0])  # the only feature
    assert torch.equal(new[1, 1], cents[1, 1])  # no second feature: stays
    assert torch.equal(new[1, 2], cents[1, 2])


def test_rescued_class_moves_with_all_its_features():
    mem = FeatureMemory(2, 8, 4, num_sub_centroids=2)
    feats = unit(16, 4, seed=4)
    labels = torch.arange(16) % 2
    correct = labels == 0  # class 1: never correct
    mem.enqueue(feats, labels, correct)
    cents = unit(2, 2, 4, seed=5)
    plain = cluster_memory(cents, mem, momentum=0.5)
    assert torch.equal(plain.centroids[1], cents[1]) and plain.counts[1].sum() == 0
    mem2 = FeatureMemory(2, 8, 4, num_sub_centroids=2)
    mem2.enqueue(feats, labels, correct)
    rescued = cluster_memory(cents, mem2, momentum=0.5, rescue=torch.tensor([False, True]))
    assert torch.allclose(rescued.centroids[0], plain.centroids[0])
    assign = rescued.assignments[1]
    for k in range(2):
        members = mem2.features[1][assign == k]
        assert rescued.counts[1, k] == members.shape[0]
        if members.shape[0]:
            expected = F.normalize(0.5 * cents[1, k] + 0.5 * F.normalize(members.sum(0), dim=0),
                                   dim=0)
            assert torch.allclose(rescued.centroids[1, k], expected, atol=1e-5)
    # the memory's incremental sums still count only correct features (none for class 1)
    assert torch.equal(mem2.assigned_sums[1], torch.zeros(2, 4, dtype=torch.float64))

"""SubCentroidClusteringPolicy on small tensors: each rule of its docstring, written out."""
import pytest
import torch
import torch.nn.functional as F

from hieraseg.models.utils import (FeatureMemory, HieraSubCentroidClassifier,
                                   NonFiniteCentroidsError, SubCentroidClassifier,
                                   SubCentroidClusteringPolicy, init_sub_centroids, leaf_view)

E = torch.eye(4)


def unit(*rows):
    return F.normalize(torch.stack(rows), dim=-1)


def classifier(centroids):
    """A classifier ``[C, K, D]`` holding exactly ``centroids``."""
    num_classes, num_k, dim = centroids.shape
    clf = SubCentroidClassifier(num_classes, num_k, dim, logit_norm='temperature')
    clf.centroids.copy_(centroids)
    return clf


def memory_of(num_classes, num_k, feats, labels, correct, capacity=8):
    memory = FeatureMemory(num_classes, capacity, feats.shape[1], num_sub_centroids=num_k)
    memory.enqueue(feats, torch.tensor(labels), torch.tensor(correct))
    return memory


def test_init_only_for_classes_with_at_least_k_features():
    # class 0: 3 features (>= K = 2), class 1: 1 feature, class 2: none. No feature is
    # classified right, so no momentum update moves anything: only the placement does.
    before = unit(E[0], E[1], E[2], E[3], E[0] + E[1], E[2] + E[3]).view(3, 2, 4)
    clf = classifier(before)
    feats = unit(E[0] + 0.1 * E[1], E[0] - 0.1 * E[1], E[2], E[3])
    memory = memory_of(3, 2, feats, [0, 0, 0, 1], [False] * 4)
    policy = SubCentroidClusteringPolicy(0.5, 0.05, 3, data_init=True, rescue_after=None)
    step = policy.step(clf, memory)
    assert step.initialized.tolist() == [True, False, False]
    assert clf.initialized.tolist() == [True, False, False]
    expected = init_sub_centroids(memory.features[:1], memory.valid[:1], 2)[0]
    assert torch.equal(clf.centroids[0], expected)
    assert torch.equal(clf.centroids[1:], before[1:])
    assert step.present.tolist() == [True, True, False]
    assert step.dead.tolist() == [True, True, False]
    assert step.correct_share.tolist() == [0.0, 0.0, 0.0]
    assert clf.class_stale.tolist() == [1, 1, 0]
    # a second step places nothing again: class 0 is initialised, class 1 still short
    step = policy.step(clf, memory)
    assert not step.initialized.any() and clf.initialized.tolist() == [True, False, False]


def test_no_init_when_data_init_is_off():
    clf = classifier(unit(E[0], E[1], E[2], E[3]).view(2, 2, 4))
    memory = memory_of(2, 2, unit(E[0], E[1], E[2]), [0, 0, 0], [False] * 3)
    step = SubCentroidClusteringPolicy(0.5, 0.05, 3, data_init=False,
                                       rescue_after=None).step(clf, memory)
    assert not step.initialized.any() and not clf.initialized.any()


def test_class_without_correct_feature_for_rescue_after_steps_moves_with_all_features():
    # K = 1; class 1's features are never classified right.
    p = unit(E[0], E[1]).view(2, 1, 4)
    clf = classifier(p)
    feats = unit(E[0] + E[2], E[1] + E[2], E[1] + E[3])
    memory = memory_of(2, 1, feats, [0, 1, 1], [True, False, False])
    policy = SubCentroidClusteringPolicy(0.5, 0.05, 3, data_init=False, rescue_after=2)
    for stale in (1, 2):  # class_stale 0 -> 1 -> 2: not rescued yet, so it stays
        step = policy.step(clf, memory)
        assert step.rescued.tolist() == [False, False]
        assert torch.equal(clf.centroids[1], p[1])
        assert clf.class_stale.tolist() == [0, stale]
        assert step.dead.tolist() == [False, True]
    step = policy.step(clf, memory)  # class_stale 2 >= rescue_after: moves with both
    assert step.rescued.tolist() == [False, True]
    mean = F.normalize(feats[1] + feats[2], dim=0)
    assert torch.allclose(clf.centroids[1, 0], F.normalize(0.5 * p[1, 0] + 0.5 * mean, dim=0),
                          atol=1e-6)
    assert clf.class_stale.tolist() == [0, 3]  # still dead: no correct feature yet


def test_starved_sub_centroid_is_reseeded_on_the_worst_served_feature():
    # Class 0: two correct features on e0 (sub-centroid 0's), two wrong ones near e2
    # (sub-centroid 1's): sub-centroid 1 gets no correct feature, it is starved.
    clf = classifier(unit(E[0], E[2]).view(1, 2, 4))
    feats = unit(E[0], E[0], E[2] + 0.1 * E[3], E[2] + 0.5 * E[3])
    memory = memory_of(1, 2, feats, [0, 0, 0, 0], [True, True, False, False])
    policy = SubCentroidClusteringPolicy(1.0, 0.05, 3, data_init=False, rescue_after=1)
    step = policy.step(clf, memory)
    assert step.result.counts.tolist() == [[2, 0]]
    assert step.reseeded.tolist() == [True]
    # the worst-served feature (lowest best cosine to the sub-centroids): e2 + 0.5 e3
    assert torch.allclose(clf.centroids[0, 1], feats[3], atol=1e-6)
    assert torch.allclose(clf.centroids[0, 0], E[0], atol=1e-6)
    assert clf.centroid_stale.tolist() == [[0, 0]]  # reset by the re-seeding
    assert clf.class_stale.tolist() == [0]


def test_no_reseed_before_rescue_after_steps_nor_when_rescue_is_off():
    feats = unit(E[0], E[0], E[2] + 0.1 * E[3], E[2] + 0.5 * E[3])
    for rescue_after, stale in ((2, 1), (None, 1)):
        clf = classifier(unit(E[0], E[2]).view(1, 2, 4))
        memory = memory_of(1, 2, feats, [0, 0, 0, 0], [True, True, False, False])
        step = SubCentroidClusteringPolicy(1.0, 0.05, 3, data_init=False,
                                           rescue_after=rescue_after).step(clf, memory)
        assert step.reseeded.tolist() == [False]
        assert clf.centroid_stale.tolist() == [[0, stale]]
        assert torch.allclose(clf.centroids[0, 1], E[2], atol=1e-6)


def test_non_finite_centroids_are_not_applied():
    before = unit(E[0], E[1]).view(1, 2, 4)
    before[0, 1, 0] = float('nan')
    clf = classifier(before)
    memory = memory_of(1, 2, unit(E[0], E[1]), [0, 0], [True, True])
    with pytest.raises(NonFiniteCentroidsError, match='not applied'):
        SubCentroidClusteringPolicy(0.5, 0.05, 3, data_init=False).step(clf, memory)
    assert torch.equal(clf.centroids.nan_to_num(7.0), before.nan_to_num(7.0))


@pytest.mark.parametrize('kwargs,match', [(dict(momentum=1.5), 'momentum'),
                                          (dict(epsilon=0.0), 'epsilon'),
                                          (dict(rescue_after=0), 'rescue_after')])
def test_bad_arguments_raise(kwargs, match):
    args = dict(dict(momentum=0.5, epsilon=0.05, iterations=3), **kwargs)
    with pytest.raises(ValueError, match=match):
        SubCentroidClusteringPolicy(**args)


def test_health_scalars_from_their_definitions():
    clf = classifier(unit(E[0], E[1], E[2], E[2] + E[3]).view(2, 2, 4))
    feats = unit(E[0], E[1], E[2], E[3])
    memory = memory_of(2, 2, feats, [0, 0, 1, 1], [True, False, True, True])
    policy = SubCentroidClusteringPolicy(1.0, 0.05, 3, data_init=False, rescue_after=None)
    step = policy.step(clf, memory)
    health = policy.health(clf, step)
    cos = (clf.centroids[:, 0] * clf.centroids[:, 1]).sum(-1)  # K = 2: one pair per class
    assert health['dnc_correct_min'] == 0.5
    assert health['dnc_dead_classes'] == 0 and health['dnc_rescued_classes'] == 0
    assert health['dnc_empty_classes'] == 0
    assert health['dnc_used_centroids'] == int((clf.centroid_stale == 0).sum())
    assert health['dnc_moved_centroids'] == float(step.result.updated.float().mean())
    assert health['dnc_centroid_cos'] == pytest.approx(float(cos.mean()), abs=1e-6)
    assert health['dnc_centroid_cos_max'] == pytest.approx(float(cos.max()), abs=1e-6)


# --- coarse levels of a hierarchical classifier -------------------------------------------
HIERARCHY = dict(classes=[['a', 'b', 'c'], ['ab', 'c']], parents=[[0, 0, 1]])


def test_leaf_view_writes_the_leaf_rows():
    clf = HieraSubCentroidClassifier(HIERARCHY, 2, 4)
    view = leaf_view(clf)
    assert view.num_classes == 3 and view.centroids.shape == (3, 2, 4)
    view.class_stale.fill_(5)
    assert clf.class_stale.tolist() == [5, 5, 5, 0, 0]
    assert leaf_view(classifier(unit(E[0]).view(1, 1, 4))).num_classes == 1


def test_coarse_node_placed_when_its_leaves_have_k_features_and_empty_node_kept():
    clf = HieraSubCentroidClassifier(HIERARCHY, 2, 4)
    before = clf.centroids.clone()
    # leaves a and b one feature each: node 'ab' has 2 = K; leaf c (node 'c') has none
    feats = unit(E[0] + 0.2 * E[1], E[1] + 0.2 * E[0])
    memory = memory_of(3, 2, feats, [0, 1], [False, False])
    policy = SubCentroidClusteringPolicy(0.5, 0.05, 3, data_init=True, rescue_after=None)
    steps = policy.step_coarse_levels(clf, memory)
    assert [s.level for s in steps] == [1]
    assert steps[0].initialized.tolist() == [True, False]
    assert steps[0].result.empty_classes.tolist() == [False, True]
    assert clf.initialized.tolist() == [False, False, False, True, False]  # leaves: step()
    valid = memory.valid[:2].reshape(1, -1)
    expected = init_sub_centroids(memory.features[:2].reshape(1, -1, 4), valid, 2)[0]
    assert torch.allclose(clf.centroids[3], expected, atol=1e-6)
    assert torch.equal(clf.centroids[4], before[4])  # node 'c': no feature, kept
    assert clf.centroid_stale[3:].tolist() == [[1, 1], [1, 1]]  # nothing correct moved
    assert torch.equal(clf.centroids[:3], before[:3])  # the leaves are step()'s

"""HieraSubCentroidClassifier: node scores, per-level normalisation, path predictions."""
import pytest
import torch
import torch.nn.functional as F

from hieraseg.models.utils import HieraSubCentroidClassifier, SubCentroidClassifier

# 5 leaves -> 3 -> 2
HIERARCHY = dict(classes=[['a', 'b', 'c', 'd', 'e'], ['ab', 'c', 'de'], ['abc', 'de2']],
                 parents=[[0, 0, 1, 2, 2], [0, 0, 1]])
PATHS = [[0, 5, 8], [1, 5, 8], [2, 6, 8], [3, 7, 9], [4, 7, 9]]  # node ids, leaf to top


def classifier(**kwargs):
    torch.manual_seed(0)
    return HieraSubCentroidClassifier(HIERARCHY, 3, 6, **kwargs)


def test_is_a_sub_centroid_classifier_over_all_nodes():
    clf = classifier()
    assert isinstance(clf, SubCentroidClassifier)
    assert clf.centroids.shape == (10, 3, 6) and clf.num_leaves == 5
    assert clf.initialized.shape == (10, ) and clf.centroid_stale.shape == (10, 3)


@pytest.mark.parametrize('logit_norm', ['layernorm', 'temperature', 'affine'])
def test_node_logits_are_best_cosines_normalised_per_level(logit_norm):
    clf = classifier(logit_norm=logit_norm, temperature=0.2, feat_norm=None)
    if logit_norm == 'layernorm':
        for norm in clf.norm:  # non-trivial affine parameters
            norm.log_weight.data.uniform_(-1.0, 1.0)
            norm.bias.data.uniform_(-1.0, 1.0)
    elif logit_norm == 'affine':  # one scale and bias per node, scales from 1 / 0.2
        assert torch.allclose(clf.norm.log_scale.exp(), torch.full((10, ), 5.0))
        assert torch.equal(clf.norm.bias, torch.zeros(10))
        clf.norm.log_scale.data.uniform_(-1.0, 1.0)
        clf.norm.bias.data.uniform_(-1.0, 1.0)
    x = torch.randn(7, 6)
    logits, sims = clf(x, return_similarities=True)
    unit = F.normalize(x, dim=1)
    expected_sims = torch.einsum('nd,vkd->nvk', unit, clf.centroids)
    assert torch.allclose(sims, expected_sims, atol=1e-6)
    scores = expected_sims.amax(dim=2)  # [N, V]
    if logit_norm == 'temperature':
        expected = scores / 0.2
    elif logit_norm == 'affine':
        expected = scores * clf.norm.log_scale.exp() + clf.norm.bias
    else:
        parts = []
        for norm, (lo, hi) in zip(clf.norm, [(0, 5), (5, 8), (8, 10)]):
            s = scores[:, lo:hi]
            s = (s - s.mean(1, keepdim=True)) / torch.sqrt(
                s.var(1, unbiased=False, keepdim=True) + 1e-5)
            parts.append(s * norm.log_weight.exp() + norm.bias)  # positive scales
        expected = torch.cat(parts, dim=1)
    assert torch.allclose(logits, expected, atol=1e-5)


@pytest.mark.parametrize('mode', ['sum', 'min', 'log'])
def test_prediction_is_the_best_root_to_leaf_path(mode):
    clf = classifier(path_score=mode)
    x = F.normalize(torch.randn(50, 6), dim=1)
    logits = clf.logits_from_similarities(clf.similarities_embedded(x))
    s = logits.sigmoid()
    path = torch.tensor(PATHS)
    if mode == 'sum':
        scores = s[:, path].sum(-1)
    elif mode == 'min':
        scores = s[:, path].amin(-1)
    else:
        scores = s[:, path].log().sum(-1)
    assert torch.equal(clf.predict_embedded(x), scores.argmax(1))


@pytest.mark.parametrize('logit_norm', ['layernorm', 'affine'])
def test_correct_mark_is_the_leaf_levels_own_argmax(logit_norm):
    clf = classifier(feat_norm=None, logit_norm=logit_norm)
    for param in clf.norm.parameters():
        param.data.uniform_(-1.0, 1.0)
    x = F.normalize(torch.randn(40, 6), dim=1)
    labels = torch.randint(0, 5, (40, ))
    leaf_logits = clf.logits_from_similarities(clf.similarities_embedded(x))[:, :5]
    assert torch.equal(clf.correct_embedded(x, labels), leaf_logits.argmax(1) == labels)


def test_bad_arguments():
    with pytest.raises(ValueError, match='num_sub_centroids'):
        HieraSubCentroidClassifier(HIERARCHY, 0, 6)
    one_top = dict(classes=[['a', 'b'], ['ab']], parents=[[0, 0]])
    with pytest.raises(ValueError, match="use 'temperature'"):
        HieraSubCentroidClassifier(one_top, 2, 6)
    assert HieraSubCentroidClassifier(one_top, 2, 6, logit_norm='temperature').norm is None
    with pytest.raises(ValueError, match='path score'):
        HieraSubCentroidClassifier(HIERARCHY, 2, 6, path_score='max')


def test_min_logit_scale_bounds_the_per_level_scales():
    clf = classifier(min_logit_scale=1.0, feat_norm=None)
    for norm in clf.norm:
        norm.log_weight.data.fill_(-30.0)  # exp() is 0: the scale is the floor
    x = torch.randn(4, 6)
    scores = clf.similarities(x).amax(dim=2)[:, 5:8]
    expected = (scores - scores.mean(1, keepdim=True)) / torch.sqrt(
        scores.var(1, unbiased=False, keepdim=True) + 1e-5)
    assert torch.allclose(clf(x)[:, 5:8], expected, atol=1e-5)
    with pytest.raises(ValueError, match='min_scale'):
        classifier(min_logit_scale=-1.0)

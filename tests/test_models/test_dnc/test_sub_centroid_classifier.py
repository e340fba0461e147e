"""SubCentroidClassifier: scores, logit normalisation, kept features, auxiliary losses."""
import pytest
import torch
import torch.nn.functional as F

from hieraseg.models.utils import SubCentroidClassifier


def test_logits_are_max_over_sub_centroids():
    torch.manual_seed(0)
    clf = SubCentroidClassifier(5, 3, 8, logit_norm='temperature', temperature=0.5,
                                feat_norm=None)
    x = torch.randn(7, 8)
    logits, sims = clf(x, return_similarities=True)
    assert logits.shape == (7, 5) and sims.shape == (7, 5, 3)
    expected = torch.einsum('nd,ckd->nck', F.normalize(x, dim=1), clf.centroids)
    assert torch.allclose(sims, expected, atol=1e-6)
    assert torch.allclose(logits, expected.amax(-1) / 0.5, atol=1e-6)
    assert torch.equal(clf.predict(x), logits.argmax(1))


def test_layernorm_is_learnable_and_over_classes():
    clf = SubCentroidClassifier(4, 2, 6, feat_norm=None)
    assert isinstance(clf.norm, torch.nn.LayerNorm)
    assert sum(p.numel() for p in clf.parameters()) == 8
    assert 'centroids' in clf.state_dict() and not clf.centroids.requires_grad
    logits = clf(torch.randn(3, 6))
    assert torch.allclose(logits.mean(1), torch.zeros(3), atol=1e-5)


def test_affine_logits_are_a_positive_scale_and_a_bias_per_class():
    torch.manual_seed(0)
    clf = SubCentroidClassifier(4, 2, 6, logit_norm='affine', temperature=0.25,
                                feat_norm=None)
    assert torch.allclose(clf.norm.log_scale.exp(), torch.full((4, ), 4.0))
    assert sum(p.numel() for p in clf.parameters()) == 8
    with torch.no_grad():
        clf.norm.log_scale.copy_(torch.tensor([-1.0, 0.0, 0.5, 2.0]))
        clf.norm.bias.copy_(torch.tensor([0.3, -0.2, 0.0, 1.0]))
    x = torch.randn(5, 6)
    logits, sims = clf(x, return_similarities=True)
    scale = torch.tensor([-1.0, 0.0, 0.5, 2.0]).exp()
    expected = sims.amax(-1) * scale + torch.tensor([0.3, -0.2, 0.0, 1.0])
    assert torch.allclose(logits, expected, atol=1e-6)


def test_centroids_are_unit_vectors():
    clf = SubCentroidClassifier(10, 4, 32)
    assert torch.allclose(clf.centroids.norm(dim=-1), torch.ones(10, 4), atol=1e-6)


def test_kept_features_are_normalised_detached_and_popped_once():
    clf = SubCentroidClassifier(3, 2, 4)
    x = torch.randn(5, 4, requires_grad=True)
    clf.keep_for_clustering(x * 3, torch.tensor([0, 1, 2, 0, 1]))
    feats, labels = clf.pop_kept()
    assert not feats.requires_grad and feats.dtype == torch.float32
    assert torch.allclose(feats.norm(dim=1), torch.ones(5), atol=1e-6)
    assert labels.tolist() == [0, 1, 2, 0, 1]
    assert clf.pop_kept() is None


def test_auxiliary_losses():
    torch.manual_seed(0)
    clf = SubCentroidClassifier(3, 2, 4, logit_norm='temperature')
    x = torch.randn(6, 4, requires_grad=True)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    _, sims = clf(x, return_similarities=True)
    assert clf.auxiliary_losses(sims, labels) == {}
    losses = clf.auxiliary_losses(sims, labels, contrast_weight=0.01, compact_weight=0.001)
    own = sims[torch.arange(6), labels]
    best, k = own.max(1)
    ce = F.cross_entropy(sims.reshape(6, -1), labels * 2 + k)
    assert torch.allclose(losses['loss_contrast'], 0.01 * ce)
    assert torch.allclose(losses['loss_compact'], 0.001 * ((1 - best)**2).mean())
    sum(losses.values()).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    empty = clf.auxiliary_losses(sims[:0], labels[:0], 1.0, 1.0)
    assert all(float(v.detach()) == 0.0 for v in empty.values())


@pytest.mark.parametrize('kwargs,match', [
    (dict(num_sub_centroids=0), 'num_sub_centroids'),
    (dict(num_sub_centroids=-2), 'num_sub_centroids'),
    (dict(feat_dim=0), 'feat_dim'),
    (dict(logit_norm='softmax'), 'logit_norm'),
    (dict(logit_norm='temperature', temperature=0.0), 'temperature'),
    (dict(logit_norm='affine', temperature=-1.0), 'temperature'),
    (dict(num_classes=1), 'layernorm'),
    (dict(feat_norm='batchnorm'), "feat_norm must be one of .*'batchnorm'"),
])
def test_bad_arguments_raise(kwargs, match):
    args = dict(num_classes=3, num_sub_centroids=2, feat_dim=4)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        SubCentroidClassifier(**args)


def test_bad_feature_shape_raises():
    with pytest.raises(ValueError, match=r'\[N, 4\]'):
        SubCentroidClassifier(3, 2, 4)(torch.randn(2, 5))


def test_feat_norm_is_a_layernorm_over_channels_before_the_l2_norm():
    """Reference from the formula: y = (x - mean) / sqrt(var + 1e-5) * w + b, then
    cosine to the centroids; the kept features and predict_embedded use the same y."""
    torch.manual_seed(0)
    clf = SubCentroidClassifier(4, 3, 6, logit_norm='temperature', temperature=0.2)
    with torch.no_grad():
        clf.feat_norm.weight.copy_(torch.rand(6) + 0.5)
        clf.feat_norm.bias.copy_(torch.randn(6) * 0.1)
    assert sum(p.numel() for p in clf.parameters()) == 12
    x = torch.rand(9, 6) * 3 + 1  # non-negative orthant, as pooled ReLU features
    mean = x.mean(1, keepdim=True)
    var = ((x - mean)**2).mean(1, keepdim=True)
    y = (x - mean) / torch.sqrt(var + 1e-5) * clf.feat_norm.weight + clf.feat_norm.bias
    y = y / y.norm(dim=1, keepdim=True)
    expected = torch.einsum('nd,ckd->nck', y, clf.centroids)
    logits, sims = clf(x, return_similarities=True)
    assert torch.allclose(sims, expected, atol=1e-5)
    assert torch.allclose(logits, expected.amax(-1) / 0.2, atol=1e-4)
    labels = torch.arange(9) % 4
    clf.keep_for_clustering(x, labels)
    kept, _ = clf.pop_kept()
    assert torch.allclose(kept, y, atol=1e-5)
    assert torch.equal(clf.predict_embedded(kept), clf.predict(x))
    # Without feat_norm the similarities differ (the LayerNorm is really applied).
    plain = torch.einsum('nd,ckd->nck', F.normalize(x, dim=1), clf.centroids)
    assert not torch.allclose(sims, plain, atol=1e-2)


def test_checkpoint_from_before_feat_norm_loads_with_feat_norm_none():
    old = SubCentroidClassifier(3, 2, 4, feat_norm=None)
    state = {k: v for k, v in old.state_dict().items()
             if k not in ('initialized', 'class_stale', 'centroid_stale')}  # old layout
    clf = SubCentroidClassifier(3, 2, 4, feat_norm=None)
    clf.load_state_dict(state)  # strict: the new buffers are filled in
    assert torch.equal(clf.centroids, old.centroids)
    assert not clf.initialized.any() and not clf.centroid_stale.any()
    with pytest.raises(RuntimeError, match='build the DNC head with feat_norm=None'):
        SubCentroidClassifier(3, 2, 4).load_state_dict(state)
    # A new checkpoint round-trips with feat_norm on.
    new = SubCentroidClassifier(3, 2, 4)
    new.initialized[1] = True
    again = SubCentroidClassifier(3, 2, 4)
    again.load_state_dict(new.state_dict())
    assert again.initialized.tolist() == [False, True, False]


def test_old_checkpoint_through_mmengine_loader_warns_with_the_fix(monkeypatch):
    """mmengine's non-strict load (what load_from / --resume use) reports the mismatch
    as a warning that names feat_norm=None; strict loading raises it."""
    import mmengine.runner.checkpoint as ckpt
    old = SubCentroidClassifier(3, 2, 4, feat_norm=None)
    state = {k: v for k, v in old.state_dict().items()
             if k not in ('initialized', 'class_stale', 'centroid_stale')}
    messages = []
    monkeypatch.setattr(ckpt, 'print_log',
                        lambda msg, logger=None, level=None: messages.append(msg))
    ckpt.load_state_dict(SubCentroidClassifier(3, 2, 4), dict(state), strict=False)
    assert any('build the DNC head with feat_norm=None' in m for m in messages)
    with pytest.raises(RuntimeError, match='feat_norm=None'):
        ckpt.load_state_dict(SubCentroidClassifier(3, 2, 4), dict(state), strict=True)
    messages.clear()
    clf = SubCentroidClassifier(3, 2, 4, feat_norm=None)
    ckpt.load_state_dict(clf, dict(state), strict=True)
    assert torch.equal(clf.centroids, old.centroids) and not messages

"""Hierarchical DNC heads: HSSN heads with a sub-centroid node classifier."""
import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from hieraseg.hierarchy import HierarchyError, build_hierarchy
from hieraseg.models.utils import HieraSubCentroidClassifier, leaf_path_scores
from tests.test_models.test_heads.test_hiera_heads import features, head_cfgs, samples

pytestmark = pytest.mark.usefixtures('mmseg_scope')
DNC = dict(num_sub_centroids=3, embed_channels=5)
HEADS = {name: name.replace('Hiera', 'HieraDNC') for name in head_cfgs()}


def build(name, **overrides):
    cfg = dict(head_cfgs()[name], type=HEADS[name], **DNC)
    cfg.update(overrides)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


@pytest.mark.parametrize('name', list(HEADS))
def test_forward_loss_and_prediction(name):
    hierarchy = build_hierarchy('pascal_person_part')  # 7 -> 3 -> 2, V = 12
    torch.manual_seed(0)
    head = build(name)
    assert not hasattr(head, 'conv_seg')
    assert isinstance(head.classifier, HieraSubCentroidClassifier)
    assert head.classifier.centroids.shape == (12, 3, 5)
    inputs = features()
    labels = torch.randint(0, 7, (2, 32, 32))
    labels[:, :4] = 255
    head.eval()
    with torch.no_grad():
        node_logits = head(inputs)  # [B, V, h, w]
    size = node_logits.shape[-2:]
    assert node_logits.shape[:2] == (2, 12)
    head.train()
    losses = head.loss(inputs, samples(labels), None)
    assert {'loss_tree_min', 'loss_tree_triplet', 'acc_seg'} <= set(losses)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert head.projection[1].weight.grad is not None
    # kept for the hook: embedded features of the labelled pixels with their LEAF labels
    feats, kept = head.classifier.pop_kept()
    small = F.interpolate(labels[:, None].float(), size=size, mode='nearest').long()
    assert torch.equal(kept, small[small != 255])
    assert feats.shape == (kept.numel(), 5)
    # inference: node logits [B, V, h, w], decoded into root-to-leaf path scores
    head.eval()
    with torch.no_grad():
        metas = [dict(img_shape=(32, 32), pad_shape=(32, 32))] * 2
        scores = head.predict_by_feat(node_logits, metas)
        assert scores.shape == (2, 7, 32, 32)
        up = F.interpolate(node_logits, size=(32, 32), mode='bilinear', align_corners=False)
        assert torch.allclose(scores, leaf_path_scores(up, hierarchy.leaf_to_node.clone()))


def test_path_score_reaches_the_classifier():
    head = build('HieraFCNHead', path_score='min')
    assert head.classifier.path_score == 'min'
    head.path_score = 'log'
    assert head.classifier.path_score == 'log'


def test_bad_input():
    with pytest.raises(ValueError, match='num_sub_centroids'):
        build('HieraFCNHead', num_sub_centroids=0)
    with pytest.raises(HierarchyError, match='7 leaf classes'):
        build('HieraFCNHead', num_classes=6)
    with pytest.raises(ValueError, match='node_bias_prior'):
        build('HieraFCNHead', node_bias_prior=True)
    with pytest.raises(ValueError, match='loss_contrast_weight'):
        build('HieraFCNHead', loss_contrast_weight=0.01)


def test_min_logit_scale_reaches_every_level():
    head = build('HieraFCNHead', min_logit_scale=0.5)
    assert [norm.min_scale for norm in head.classifier.norm] == [0.5, 0.5, 0.5]

import math

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from hieraseg.hierarchy import HierarchyError, build_hierarchy
from hieraseg.models.heads.hiera_heads import top1_accuracy
from hieraseg.models.utils import leaf_path_scores

LOSSES = dict(
    loss_decode=dict(type='TreeMinLoss', gamma=2.0),
    loss_triplet=dict(type='TreeTripletLoss', loss_weight=0.5, ramp=None))
NORM = dict(type='BN', requires_grad=True)


def head_cfgs(hierarchy='pascal_person_part'):
    """Small versions of the three HSSN heads over backbone features of widths 8..32."""
    common = dict(hierarchy=hierarchy, channels=8, norm_cfg=NORM, embedding_channels=6,
                  dropout_ratio=0.0, **LOSSES)
    return {
        'HieraFCNHead': dict(type='HieraFCNHead', in_channels=32, in_index=3, num_convs=1,
                             **common),
        'HieraSepASPPHead': dict(type='HieraSepASPPHead', in_channels=32, in_index=3,
                                 dilations=(1, 2), c1_in_channels=8, c1_channels=4,
                                 **common),
        'HieraUPerHead': dict(type='HieraUPerHead', in_channels=[8, 16, 24, 32],
                              in_index=[0, 1, 2, 3], pool_scales=(1, 2), **common),
    }


def features(batch=2, size=8, generator=None):
    """Backbone-like features: strides 4, 8, 8, 8 of a 4 * size image (output stride 8)."""
    shapes = [(8, 2 * size), (16, size), (24, size), (32, size)]
    return [torch.randn(batch, c, s, s, generator=generator) for c, s in shapes]


def samples(labels):
    out = []
    for label in labels:
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=label[None])
        sample.set_metainfo(dict(img_shape=tuple(label.shape), pad_shape=tuple(label.shape)))
        out.append(sample)
    return out


def path_nodes(hierarchy, leaf):
    """The node indices on ``leaf``'s root-to-leaf path, walked up with the parent lists."""
    node, level, nodes = leaf, 0, []
    while True:
        nodes.append(hierarchy.level_offsets[level] + node)
        if level == hierarchy.num_levels - 1:
            return nodes
        node, level = hierarchy.parents[level][node], level + 1


@pytest.mark.parametrize('mode', ['sum', 'min', 'log'])
def test_leaf_path_scores_against_explicit_paths(mode):
    hierarchy = build_hierarchy('pascal_person_part')
    logits = torch.randn(2, hierarchy.num_nodes, 3, 4)
    scores = leaf_path_scores(logits, hierarchy.leaf_to_node, mode)
    assert scores.shape == (2, 7, 3, 4)
    for leaf in range(7):
        sig = torch.stack([logits[:, node].sigmoid() for node in path_nodes(hierarchy, leaf)])
        expected = dict(sum=sig.sum(0), min=sig.amin(0), log=sig.log().sum(0))[mode]
        assert torch.allclose(scores[:, leaf], expected, atol=1e-6)


def test_unknown_path_score_mode_is_an_error(mmseg_scope):
    with pytest.raises(ValueError, match="unknown path score mode 'max'"):
        leaf_path_scores(torch.zeros(1, 12, 1, 1),
                         build_hierarchy('pascal_person_part').leaf_to_node, 'max')
    with pytest.raises(ValueError, match="HieraFCNHead.path_score: unknown path score mode"):
        MODELS.build(dict(head_cfgs()['HieraFCNHead'], path_score='product'))
    with pytest.raises(ValueError, match='node_bias_prior must be True or False'):
        MODELS.build(dict(head_cfgs()['HieraFCNHead'], node_bias_prior='yes'))


@pytest.mark.parametrize('mode', ['sum', 'min', 'log'])
def test_predict_decodes_logits_upsampled_to_the_output_size(mode, mmseg_scope):
    """The paths are scored from bilinearly upsampled node logits, not scored at the
    head's resolution and then upsampled (which gives other predictions)."""
    torch.manual_seed(0)
    head = MODELS.build(dict(head_cfgs()['HieraFCNHead'], path_score=mode)).eval()
    hierarchy = head.hierarchy
    node_logits = 4 * torch.randn(2, hierarchy.num_nodes, 8, 8)
    metas = [dict(img_shape=(32, 32), pad_shape=(32, 32))] * 2
    predicted = head.predict_by_feat(node_logits, metas)
    up = torch.nn.functional.interpolate(node_logits, size=(32, 32), mode='bilinear',
                                         align_corners=False)
    expected = leaf_path_scores(up, hierarchy.leaf_to_node, mode)
    torch.testing.assert_close(predicted, expected)
    scores_first = torch.nn.functional.interpolate(
        leaf_path_scores(node_logits, hierarchy.leaf_to_node, mode), size=(32, 32),
        mode='bilinear', align_corners=False)
    assert not torch.allclose(predicted, scores_first, atol=1e-3)
    assert (predicted.argmax(1) != scores_first.argmax(1)).any()
    torch.testing.assert_close(head.predict_node_logits(features(), metas).shape[1:],
                               torch.Size([hierarchy.num_nodes, 32, 32]))


def test_node_bias_prior(mmseg_scope):
    head = MODELS.build(dict(head_cfgs()['HieraFCNHead'], node_bias_prior=True))
    head.init_weights()
    bias = head.conv_seg.bias.detach()
    # pascal_person_part: 7 leaves, 3 middle nodes, 2 top nodes
    expected = torch.tensor([math.log(1 / 6)] * 7 + [math.log(1 / 2)] * 3 + [0.0] * 2)
    torch.testing.assert_close(bias, expected)
    plain = MODELS.build(head_cfgs()['HieraFCNHead'])
    plain.init_weights()
    assert torch.equal(plain.conv_seg.bias.detach(), torch.zeros(12))


def test_top1_accuracy_equals_mmseg_accuracy():
    from mmseg.models.losses import accuracy
    generator = torch.Generator().manual_seed(0)
    scores = torch.randn(2, 5, 6, 7, generator=generator)
    labels = torch.randint(0, 5, (2, 6, 7), generator=generator)
    labels[0, :2] = 255
    value = top1_accuracy(scores, labels, 255)
    assert value.shape == (1, )
    torch.testing.assert_close(value, accuracy(scores, labels, ignore_index=255))
    hand = (scores.argmax(1) == labels)[labels != 255].float().mean() * 100
    torch.testing.assert_close(value, hand.view(1))
    all_ignored = torch.full_like(labels, 255)
    torch.testing.assert_close(top1_accuracy(scores, all_ignored, 255),
                               accuracy(scores, all_ignored, ignore_index=255))


@pytest.mark.parametrize('name', ['HieraFCNHead', 'HieraSepASPPHead', 'HieraUPerHead'])
def test_head_predicts_leaf_path_scores_and_trains(name, mmseg_scope):
    torch.manual_seed(0)
    head = MODELS.build(head_cfgs()[name])
    hierarchy = build_hierarchy('pascal_person_part')
    assert head.conv_seg.out_channels == hierarchy.num_nodes == 12
    assert head.num_classes == head.out_channels == 7
    inputs = features()
    head.eval()
    with torch.no_grad():
        node_logits = head.forward(inputs)
        predicted = head.predict(inputs, [dict(img_shape=(32, 32), pad_shape=(32, 32))] * 2,
                                 None)
    assert node_logits.shape[1] == 12 and predicted.shape == (2, 7, 32, 32)
    # the leaf prediction is the top-scoring root-to-leaf path; its ancestors are the
    # coarse predictions, consistent by construction
    leaf = predicted.argmax(1)
    assert leaf.max() < 7

    head.train()
    labels = torch.randint(0, 7, (2, 32, 32))
    labels[:, :4] = 255
    kept = labels.clone()
    losses = head.loss(inputs, samples(labels), None)
    assert set(losses) == {'loss_tree_min', 'loss_tree_triplet', 'acc_seg'}
    assert torch.equal(labels, kept)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    unused = [n for n, p in head.named_parameters() if p.requires_grad and p.grad is None]
    assert unused == []


def test_no_triplet_batch_still_reaches_the_embedding_branch(mmseg_scope):
    head = MODELS.build(head_cfgs()['HieraFCNHead'])
    head.train()
    labels = torch.full((2, 32, 32), 3)  # one leaf only: no negative exists
    losses = head.loss(features(), samples(labels), None)
    assert losses['loss_tree_triplet'].item() == 0
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert all(p.grad is not None for p in head.embedding.parameters())


def test_build_errors_name_the_problem(mmseg_scope):
    cfg = head_cfgs()['HieraFCNHead']
    with pytest.raises(HierarchyError, match='7 leaf classes but HieraFCNHead.num_classes has 19'):
        MODELS.build(dict(cfg, num_classes=19))
    with pytest.raises(HierarchyError, match="has hierarchy 'cityscapes' but its head"):
        MODELS.build(dict(cfg, loss_decode=dict(type='TreeMinLoss', hierarchy='cityscapes')))
    with pytest.raises(ValueError, match='does not support pixel samplers'):
        MODELS.build(dict(cfg, sampler=dict(type='OHEMPixelSampler')))
    with pytest.raises(HierarchyError, match='level 2 is empty'):
        MODELS.build(dict(cfg, hierarchy=dict(classes=[['a'], []], parents=[[0]])))

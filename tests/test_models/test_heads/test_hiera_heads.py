import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from hieraseg.hierarchy import HierarchyError, build_hierarchy
from hieraseg.models.heads import leaf_path_scores
from hieraseg.models.heads.hiera_heads import top1_accuracy

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


def test_leaf_path_scores_against_explicit_paths():
    hierarchy = build_hierarchy('pascal_person_part')
    logits = torch.randn(2, hierarchy.num_nodes, 3, 4)
    scores = leaf_path_scores(logits, hierarchy)
    assert scores.shape == (2, 7, 3, 4)
    for leaf in range(7):
        node, level, expected = leaf, 0, torch.zeros(2, 3, 4)
        while True:  # walk up with the parent lists
            expected += logits[:, hierarchy.level_offsets[level] + node].sigmoid()
            if level == hierarchy.num_levels - 1:
                break
            node, level = hierarchy.parents[level][node], level + 1
        assert torch.allclose(scores[:, leaf], expected, atol=1e-6)


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
    with pytest.raises(HierarchyError, match='level 1 .* is empty'):
        MODELS.build(dict(cfg, hierarchy=dict(classes=[['a'], []], parents=[[0]])))

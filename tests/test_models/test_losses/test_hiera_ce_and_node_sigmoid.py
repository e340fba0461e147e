"""HieraCrossEntropyLoss and NodeSigmoidLoss against references written from their formulas."""
import math

import pytest
import torch
from mmseg.registry import MODELS

from hieraseg.hierarchy import build_hierarchy
from hieraseg.models.losses import HieraCrossEntropyLoss, NodeSigmoidLoss, TreeMinLoss


def batch(hierarchy, seed=0):
    generator = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(2, hierarchy.num_nodes, 5, 6, generator=generator)
    labels = torch.randint(0, hierarchy.num_leaves, (2, 5, 6), generator=generator)
    labels[0, 0] = 255
    return logits, labels


def test_hiera_cross_entropy_is_one_softmax_ce_per_level():
    hierarchy = build_hierarchy('pascal_person_part')  # 7 -> 3 -> 2
    logits, labels = batch(hierarchy)
    loss = HieraCrossEntropyLoss(hierarchy, level_weights=[1.0, 0.5, 2.0], loss_weight=3.0)
    valid = labels != 255
    expected = 0.0
    for level, weight in enumerate([1.0, 0.5, 2.0]):
        start = hierarchy.level_offsets[level]
        level_logits = logits[:, start:start + hierarchy.level_sizes[level]]
        log_p = level_logits.log_softmax(1).permute(0, 2, 3, 1)[valid]  # [N, C_l]
        target = torch.tensor([hierarchy.leaf_to_level[level, c] for c in labels[valid]])
        expected += weight * -log_p[torch.arange(len(target)), target].mean()
    torch.testing.assert_close(loss(logits, labels), 3.0 * expected)
    kept = labels.clone()
    loss(logits, labels)
    assert torch.equal(labels, kept)


def test_hiera_cross_entropy_leaf_level_alone_is_mmseg_ce():
    hierarchy = build_hierarchy('toy_shapes')
    logits, labels = batch(hierarchy)
    loss = HieraCrossEntropyLoss(hierarchy, level_weights=[1.0, 0.0])
    ce = MODELS.build(dict(type='mmseg.CrossEntropyLoss', avg_non_ignore=True))
    torch.testing.assert_close(loss(logits, labels), ce(logits[:, :6], labels, ignore_index=255))


@pytest.mark.parametrize('gamma', [0.0, 2.0])
@pytest.mark.parametrize('mode', ['node_sum', 'level_mean'])
def test_node_sigmoid_loss_against_formula(gamma, mode):
    hierarchy = build_hierarchy('pascal_person_part')
    logits, labels = batch(hierarchy, seed=1)
    logits.requires_grad_(True)
    value = NodeSigmoidLoss(hierarchy, gamma=gamma, reduction_mode=mode)(logits, labels)
    s = logits.detach().sigmoid()
    total = 0.0
    for b, y, x in zip(*torch.nonzero(labels != 255, as_tuple=True)):
        on_path = set(hierarchy.leaf_to_node[:, labels[b, y, x]].tolist())
        for v in range(hierarchy.num_nodes):
            sv = s[b, v, y, x]
            term = -(1 - sv)**gamma * math.log(sv) if v in on_path \
                else -sv**gamma * math.log(1 - sv)
            level = max(i for i in range(3) if hierarchy.level_offsets[i] <= v)
            total += term / (hierarchy.level_sizes[level] if mode == 'level_mean' else 1)
    torch.testing.assert_close(value.detach(), torch.tensor(total / int((labels != 255).sum()),
                                                            dtype=torch.float32))
    value.backward()
    assert torch.isfinite(logits.grad).all()


def test_node_sigmoid_loss_is_tree_min_without_a_tree():
    """On a one-level hierarchy every node is its own ancestor and descendant set, so the
    tree-min loss and the node-wise loss coincide."""
    flat = dict(classes=[['a', 'b', 'c']], parents=[])
    logits, labels = batch(build_hierarchy(flat), seed=2)
    for gamma in (0.0, 2.0):
        torch.testing.assert_close(
            NodeSigmoidLoss(flat, gamma=gamma, reduction_mode='node_sum')(logits, labels),
            TreeMinLoss(flat, gamma=gamma, reduction_mode='node_sum')(logits, labels))


@pytest.mark.parametrize('loss_type', [HieraCrossEntropyLoss, NodeSigmoidLoss, TreeMinLoss])
@pytest.mark.parametrize('bad', [-1.0, float('nan'), float('inf'), 'x'])
def test_bad_weights_are_build_errors(loss_type, bad):
    with pytest.raises(ValueError, match='loss_weight must be a finite number >= 0'):
        loss_type('toy_shapes', loss_weight=bad)


def test_bad_level_weights_are_build_errors():
    with pytest.raises(ValueError, match='one weight per level'):
        HieraCrossEntropyLoss('toy_shapes', level_weights=[1.0])
    with pytest.raises(ValueError, match=r'level_weights\[1\] must be a finite number >= 0'):
        HieraCrossEntropyLoss('toy_shapes', level_weights=[1.0, -0.5])

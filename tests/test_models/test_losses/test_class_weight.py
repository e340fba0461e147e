"""class_weight of HieraCrossEntropyLoss and TreeMinLoss: values from the formula by hand,
the files and dicts it is read from, and its errors."""
import json
import math
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from hieraseg.hierarchy import build_hierarchy
from hieraseg.models.losses import HieraCrossEntropyLoss, TreeMinLoss
from hieraseg.models.losses.class_weight import leaf_pixel_weight, load_class_weight

IGNORE = 255
# toy_shapes: 6 leaves -> 3 groups
TOY_WEIGHTS = [0.5, 1.0, 2.0, 3.0, 0.0, 4.0]


def batch(hierarchy, seed=0, dtype=torch.float32):
    generator = torch.Generator().manual_seed(seed)
    logits = 2 * torch.randn(2, hierarchy.num_nodes, 3, 4, generator=generator, dtype=dtype)
    labels = torch.randint(0, hierarchy.num_leaves, (2, 3, 4), generator=generator)
    labels[0, 0, :2] = IGNORE
    return logits, labels


# ---------------------------------------------------------------- HieraCrossEntropyLoss
def two_pixels():
    """Leaf logits (log 3, 0) on a pixel of leaf a (p(a) = 3/4), (0, 0) on a pixel of leaf
    b, and an ignored pixel; a third channel for a one-node root, if any."""
    logits = torch.zeros(1, 3, 1, 3)
    logits[0, 0, 0, 0] = math.log(3)
    return logits, torch.tensor([[[0, 1, IGNORE]]])


def test_hiera_ce_class_weight_by_hand():
    """Two leaves under one root, weights 1 and 3: the leaf-level CEs are log(4/3) and
    log 2, the root level's 0; the weighted mean is (1 log(4/3) + 3 log 2) / (1 + 3)."""
    tree = dict(classes=[['a', 'b'], ['root']], parents=[[0, 0]])
    logits, labels = two_pixels()
    loss = HieraCrossEntropyLoss(tree, class_weight=[1.0, 3.0])
    expected = (math.log(4 / 3) + 3 * math.log(2)) / 4
    torch.testing.assert_close(loss(logits, labels), torch.tensor(expected))
    torch.testing.assert_close(HieraCrossEntropyLoss(tree, class_weight=[2.0, 6.0])(
        logits, labels), torch.tensor(expected))  # only the ratios count


def test_hiera_ce_class_weight_against_formula():
    hierarchy = build_hierarchy('toy_shapes')
    logits, labels = batch(hierarchy)
    loss = HieraCrossEntropyLoss(hierarchy, level_weights=[1.0, 0.5], loss_weight=2.0,
                                 class_weight=TOY_WEIGHTS)
    valid = labels != IGNORE
    expected = 0.0
    for level, level_weight in enumerate([1.0, 0.5]):
        start = hierarchy.level_offsets[level]
        log_p = logits[:, start:start + hierarchy.level_sizes[level]].log_softmax(1)
        total = 0.0
        for b, y, x in zip(*torch.nonzero(valid, as_tuple=True)):
            leaf = int(labels[b, y, x])
            target = int(hierarchy.leaf_to_level[level, leaf])
            total += TOY_WEIGHTS[leaf] * -float(log_p[b, target, y, x])
        total_weight = sum(TOY_WEIGHTS[int(leaf)] for leaf in labels[valid])
        expected += level_weight * total / total_weight
    torch.testing.assert_close(loss(logits, labels), torch.tensor(2.0 * expected))


def test_hiera_ce_leaf_level_with_class_weight_is_torch_and_mmseg_ce():
    hierarchy = build_hierarchy('toy_shapes')
    logits, labels = batch(hierarchy, seed=1)
    loss = HieraCrossEntropyLoss(hierarchy, level_weights=[1.0, 0.0], class_weight=TOY_WEIGHTS)
    torch.testing.assert_close(
        loss(logits, labels),
        F.cross_entropy(logits[:, :6], labels, weight=torch.tensor(TOY_WEIGHTS),
                        ignore_index=IGNORE))
    # mmseg's CrossEntropyLoss with class_weight fails on ignored labels: none here
    labels = torch.where(labels == IGNORE, 1, labels)
    ce = MODELS.build(dict(type='mmseg.CrossEntropyLoss', avg_non_ignore=True,
                           class_weight=TOY_WEIGHTS))
    torch.testing.assert_close(loss(logits, labels), ce(logits[:, :6], labels,
                                                        ignore_index=IGNORE))


@pytest.mark.parametrize('loss_type', [HieraCrossEntropyLoss, TreeMinLoss])
def test_only_zero_weight_pixels_give_zero_with_a_finite_gradient(loss_type):
    hierarchy = build_hierarchy('toy_shapes')
    logits, _ = batch(hierarchy)
    logits.requires_grad_(True)
    labels = torch.full((2, 3, 4), 4)  # cool striped, weight 0
    labels[1, 0, 0] = IGNORE
    value = loss_type(hierarchy, class_weight=TOY_WEIGHTS)(logits, labels)
    (grad, ) = torch.autograd.grad(value, logits)
    assert value.item() == 0 and torch.equal(grad, torch.zeros_like(grad))


def test_hiera_ce_unit_class_weight_changes_nothing():
    hierarchy = build_hierarchy('pascal_person_part')
    logits, labels = batch(hierarchy, seed=2)
    logits.requires_grad_(True)
    plain = HieraCrossEntropyLoss(hierarchy)(logits, labels)
    weighted = HieraCrossEntropyLoss(hierarchy, class_weight=[1.0] * 7)(logits, labels)
    torch.testing.assert_close(weighted, plain)
    (grad_plain, ) = torch.autograd.grad(plain, logits)
    (grad_weighted, ) = torch.autograd.grad(weighted, logits)
    torch.testing.assert_close(grad_weighted, grad_plain)


# ---------------------------------------------------------------- TreeMinLoss
@pytest.mark.parametrize('reduction_mode', ['level_mean', 'node_sum'])
def test_tree_min_class_weight_is_the_pixel_weight_of_the_leaf(reduction_mode):
    """class_weight w gives the loss (and gradient) of per-pixel weights w[label] times
    N / sum(w[label]) (N valid pixels: the pixel weights' sum is divided by N, the class
    weights' by their sum); a per-pixel weight given as well multiplies it."""
    hierarchy = build_hierarchy('toy_shapes')
    logits, labels = batch(hierarchy, dtype=torch.float64)
    logits.requires_grad_(True)
    weights = torch.tensor(TOY_WEIGHTS, dtype=torch.float64)
    safe = torch.where(labels == IGNORE, 0, labels)
    extra = torch.linspace(0.5, 1.5, 24, dtype=torch.float64).view(2, 3, 4)
    weighted = TreeMinLoss(hierarchy, reduction_mode=reduction_mode,
                           class_weight=TOY_WEIGHTS)(logits, labels, weight=extra)
    valid = labels != IGNORE
    scale = valid.sum() / weights[safe][valid].sum()
    by_pixel = TreeMinLoss(hierarchy, reduction_mode=reduction_mode)(
        logits, labels, weight=weights[safe] * extra * scale)
    torch.testing.assert_close(weighted, by_pixel, rtol=1e-12, atol=1e-12)
    (grad_weighted, ) = torch.autograd.grad(weighted, logits)
    (grad_by_pixel, ) = torch.autograd.grad(by_pixel, logits)
    torch.testing.assert_close(grad_weighted, grad_by_pixel, rtol=1e-12, atol=1e-12)


def test_tree_min_class_weight_by_hand():
    """One level, two leaves, gamma 0, node_sum: the pixel of leaf a (logits log 3, 0)
    costs -log sigmoid(log 3) - log(1 - sigmoid(0)) = log(4/3) + log 2, the pixel of b
    (zeros) 2 log 2; weights 1 and 3: (1 (log(4/3) + log 2) + 3 * 2 log 2) / (1 + 3)."""
    flat = dict(classes=[['a', 'b']], parents=[])
    loss = TreeMinLoss(flat, gamma=0.0, reduction_mode='node_sum', class_weight=[1.0, 3.0])
    logits, labels = two_pixels()
    expected = (math.log(4 / 3) + math.log(2) + 6 * math.log(2)) / 4
    torch.testing.assert_close(loss(logits[:, :2], labels), torch.tensor(expected))


# ---------------------------------------------------------------- where weights come from
def test_leaf_pixel_weight():
    weights = torch.tensor([0.5, 2.0])
    labels = torch.tensor([[[0, 1], [1, 0]]])
    valid = torch.tensor([[[True, True], [False, True]]])
    assert torch.equal(leaf_pixel_weight(weights, labels, valid, torch.float32),
                       torch.tensor([[[0.5, 2.0], [0.0, 0.5]]]))
    assert torch.equal(leaf_pixel_weight(None, labels, valid, torch.float64),
                       valid.double())


@pytest.mark.parametrize('form', ['list', 'dict', 'json', 'json-dict', 'npy', 'yaml'])
def test_class_weight_sources(tmp_path, form):
    hierarchy = build_hierarchy('toy_shapes')
    by_name = dict(zip(hierarchy.classes[0], TOY_WEIGHTS))
    if form == 'list':
        spec = list(TOY_WEIGHTS)
    elif form == 'dict':
        spec = dict(reversed(list(by_name.items())))  # the order of the names does not matter
    elif form == 'npy':
        spec = str(tmp_path / 'w.npy')
        np.save(spec, np.array(TOY_WEIGHTS))
    elif form == 'yaml':
        spec = str(tmp_path / 'w.yaml')
        (tmp_path / 'w.yaml').write_text('\n'.join(f'- {w}' for w in TOY_WEIGHTS))
    else:
        spec = str(tmp_path / 'w.json')
        (tmp_path / 'w.json').write_text(json.dumps(by_name if form == 'json-dict'
                                                    else TOY_WEIGHTS))
    weights = load_class_weight(spec, hierarchy, 'X')
    assert weights.dtype == torch.float32
    assert weights.tolist() == TOY_WEIGHTS
    assert load_class_weight(None, hierarchy, 'X') is None


@pytest.mark.parametrize('spec,message', [
    ([1.0, 2.0], r'X: class_weight has 2 values; the hierarchy .* has 6 leaves'),
    ([1.0, -1.0, 1.0, 1.0, 1.0, 1.0], r"class_weight of 'warm plain' must be a finite number"),
    ([1.0, float('nan')] + [1.0] * 4, 'must be a finite number >= 0'),
    ([1.0, True] + [1.0] * 4, 'must be a finite number >= 0'),
    ([0.0] * 6, 'class_weight is 0 for every leaf'),
    ({'circle': 1.0}, r"name every leaf .* missing \['background', 'warm plain', .*"
                      r"unknown \['circle'\]"),
    (7.0, 'must be a list of one weight per leaf'),
])
def test_bad_class_weight_is_a_build_error(spec, message):
    for loss_type in (HieraCrossEntropyLoss, TreeMinLoss):
        with pytest.raises(ValueError, match=message.replace('X', loss_type.__name__)):
            loss_type('toy_shapes', class_weight=spec)


def test_a_pickle_file_is_refused_and_not_read(tmp_path):
    """Nothing read from the user's disk runs code: mmseg's get_class_weight would unpickle a
    .pkl file (and a .npy file's pickled objects); both are refused."""
    import pickle

    marker = tmp_path / 'marker'

    class Hostile:
        def __reduce__(self):
            return (os.mkdir, (str(marker), ))

    (tmp_path / 'w.pkl').write_bytes(pickle.dumps([Hostile()]))
    with pytest.raises(ValueError, match=r"w.pkl': give a .npy, .json or .yaml file"):
        TreeMinLoss('toy_shapes', class_weight=str(tmp_path / 'w.pkl'))
    np.save(tmp_path / 'w.npy', np.array([Hostile()], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match='allow_pickle=False'):
        HieraCrossEntropyLoss('toy_shapes', class_weight=str(tmp_path / 'w.npy'))
    assert not marker.exists()
    with pytest.raises(FileNotFoundError, match="class_weight file '.*nope.json' does not"):
        TreeMinLoss('toy_shapes', class_weight=str(tmp_path / 'nope.json'))


def test_class_weight_moves_with_the_loss_and_is_not_saved():
    loss = TreeMinLoss('toy_shapes', class_weight=TOY_WEIGHTS).double()
    assert loss.class_weight.dtype == torch.float64
    assert 'class_weight' not in loss.state_dict()
    assert 'class_weight=[0.5, 1.0' in repr(HieraCrossEntropyLoss('toy_shapes',
                                                                  class_weight=TOY_WEIGHTS))

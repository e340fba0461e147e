"""RandomFlipWithLabelSwap: flips like mmseg's RandomFlip and exchanges left/right labels."""
import numpy as np
import pytest
from mmseg.datasets.transforms import RandomFlip
from mmseg.registry import TRANSFORMS

from hieraseg.datasets import RandomFlipWithLabelSwap, label_swap_table
from hieraseg.hierarchy import LIP_FLIP_PAIRS

PARTNER = {14: 15, 15: 14, 16: 17, 17: 16, 18: 19, 19: 18}


def swapped_by_hand(labels):
    return np.array([[PARTNER.get(int(v), int(v)) for v in row] for row in labels],
                    dtype=labels.dtype)


def lip_results(dtype=np.uint8):
    """Every LIP label and the ignore index, [3, 7] labels and a [3, 7, 3] image."""
    labels = np.append(np.arange(20), 255).reshape(3, 7).astype(dtype)
    image = np.random.default_rng(0).integers(0, 256, (3, 7, 3), dtype=np.uint8)
    return dict(img=image, gt_seg_map=labels, seg_fields=['gt_seg_map'])


def test_flip_swaps_exactly_the_pairs_and_keeps_the_input():
    results = lip_results()
    labels_in, image_in = results['gt_seg_map'], results['img']
    labels_before, image_before = labels_in.copy(), image_in.copy()
    out = RandomFlipWithLabelSwap(LIP_FLIP_PAIRS, prob=1.0)(results)
    assert out['flip'] is True and out['flip_direction'] == 'horizontal'
    assert np.array_equal(out['gt_seg_map'], swapped_by_hand(labels_before[:, ::-1]))
    assert out['gt_seg_map'].dtype == np.uint8
    changed = out['gt_seg_map'] != labels_before[:, ::-1]
    assert set(labels_before[:, ::-1][changed].tolist()) == set(PARTNER)
    assert np.array_equal(out['img'], image_before[:, ::-1])
    # the caller's arrays are untouched and not shared with the output labels
    assert np.array_equal(labels_in, labels_before) and np.array_equal(image_in, image_before)
    assert not np.shares_memory(out['gt_seg_map'], labels_in)


def test_prob_zero_changes_nothing():
    results = lip_results()
    labels_before, image_before = results['gt_seg_map'].copy(), results['img'].copy()
    out = RandomFlipWithLabelSwap(LIP_FLIP_PAIRS, prob=0.0)(results)
    assert out['flip'] is False and out['flip_direction'] is None
    assert np.array_equal(out['gt_seg_map'], labels_before)
    assert np.array_equal(out['img'], image_before)


def test_same_image_flip_as_mmseg_random_flip():
    ours = RandomFlipWithLabelSwap(LIP_FLIP_PAIRS, prob=1.0)(lip_results())
    theirs = RandomFlip(prob=1.0)(lip_results())
    assert np.array_equal(ours['img'], theirs['img'])
    assert np.array_equal(ours['gt_seg_map'], swapped_by_hand(theirs['gt_seg_map']))


def test_random_flips_swap_exactly_when_they_flip():
    transform = RandomFlipWithLabelSwap(LIP_FLIP_PAIRS, prob=0.5)
    labels = lip_results()['gt_seg_map']
    np.random.seed(3)
    seen = set()
    for _ in range(16):
        out = transform(lip_results())
        seen.add(out['flip'])
        expected = swapped_by_hand(labels[:, ::-1]) if out['flip'] else labels
        assert np.array_equal(out['gt_seg_map'], expected)
    assert seen == {True, False}


@pytest.mark.parametrize('direction, flip_axes, swaps', [
    ('vertical', (0, ), True),  # a mirror image, like a horizontal flip
    ('diagonal', (0, 1), False),  # a 180 degree rotation keeps the body sides
])
def test_which_flip_directions_swap(direction, flip_axes, swaps):
    labels = lip_results()['gt_seg_map']
    out = RandomFlipWithLabelSwap(LIP_FLIP_PAIRS, prob=1.0, direction=direction)(lip_results())
    flipped = np.flip(labels, axis=flip_axes)
    assert out['flip_direction'] == direction
    assert np.array_equal(out['gt_seg_map'], swapped_by_hand(flipped) if swaps else flipped)


def test_direction_lists_with_fixed_probabilities():
    transform = RandomFlipWithLabelSwap(LIP_FLIP_PAIRS, prob=[0.0, 1.0],
                                        direction=['diagonal', 'horizontal'])
    labels = lip_results()['gt_seg_map']
    out = transform(lip_results())
    assert out['flip_direction'] == 'horizontal'
    assert np.array_equal(out['gt_seg_map'], swapped_by_hand(labels[:, ::-1]))


def test_wider_integer_labels():
    results = lip_results(np.int64)
    results['gt_seg_map'][0, 0] = 300  # a label id beyond uint8 stays as it is
    labels_in = results['gt_seg_map']
    labels_before = labels_in.copy()
    out = RandomFlipWithLabelSwap(LIP_FLIP_PAIRS, prob=1.0)(results)
    assert out['gt_seg_map'].dtype == np.int64
    assert np.array_equal(out['gt_seg_map'], swapped_by_hand(labels_before[:, ::-1]))
    assert np.array_equal(labels_in, labels_before)


def test_label_errors_are_named():
    transform = RandomFlipWithLabelSwap(LIP_FLIP_PAIRS, prob=1.0)
    results = lip_results()
    results['gt_seg_map'] = results['gt_seg_map'].astype(np.float32)
    with pytest.raises(TypeError, match='must hold integer label ids.*float32'):
        transform(results)
    results['gt_seg_map'] = lip_results(np.int16)['gt_seg_map'] - 1
    with pytest.raises(ValueError, match='negative label -1'):
        transform(results)
    results['gt_seg_map'] = lip_results()['gt_seg_map']
    with pytest.raises(ValueError, match='label id 300 .* dtype uint8'):
        RandomFlipWithLabelSwap([(299, 300)], prob=1.0)(results)


def test_image_only_results_flip_without_labels():
    results = lip_results()
    image_before = results['img'].copy()
    del results['gt_seg_map'], results['seg_fields']
    out = RandomFlipWithLabelSwap(LIP_FLIP_PAIRS, prob=1.0)(results)
    assert 'gt_seg_map' not in out
    assert np.array_equal(out['img'], image_before[:, ::-1])


@pytest.mark.parametrize('pairs, message', [
    ([(14, 14)], 'a pair needs two different non-negative label ids'),
    ([(-1, 3)], 'a pair needs two different non-negative label ids'),
    ([(14, 15), (15, 16)], 'label 15 appears in more than one pair'),
    ([(14, 15, 16)], 'each entry must be a pair of integer label ids'),
    ([(14.0, 15)], 'each entry must be a pair of integer label ids'),
    ('14,15', 'expected a sequence of'),
])
def test_bad_pairs_are_rejected(pairs, message):
    with pytest.raises(ValueError, match=f'RandomFlipWithLabelSwap.swap_label_pairs: {message}'):
        RandomFlipWithLabelSwap(pairs, prob=0.5)


def test_built_from_a_config(mmseg_scope):
    transform = TRANSFORMS.build(
        dict(type='RandomFlipWithLabelSwap', prob=0.5, swap_label_pairs=[[14, 15], [16, 17]]))
    assert isinstance(transform, RandomFlipWithLabelSwap) and isinstance(transform, RandomFlip)
    assert transform.swap_label_pairs == ((14, 15), (16, 17))
    assert 'swap_label_pairs=((14, 15), (16, 17))' in repr(transform)


def test_label_swap_table():
    assert label_swap_table(((1, 3), ), 5).tolist() == [0, 3, 2, 1, 4]
    assert label_swap_table((), 2).tolist() == [0, 1]
    with pytest.raises(ValueError, match='label pair id 5 does not fit 5 classes'):
        label_swap_table(((1, 5), ), 5)

"""Superpixels transform and CAST packers: the map follows the image through mmseg's and
mmpretrain's geometric transforms, ids are contiguous, bad input is a clear error."""
import numpy as np
import pytest
from mmengine.dataset import Compose
from mmengine.registry import TRANSFORMS, DefaultScope

import hieraseg  # noqa: F401  (registers the transforms)
from hieraseg.datasets import SuperpixelError, compute_superpixels, relabel_contiguous

HEIGHTS, WIDTHS = [12, 20, 14, 18], [10, 22, 14, 18, 12, 20]  # no mirror symmetry
ROWS, COLS = len(HEIGHTS), len(WIDTHS)


def block_image(seed=0):
    """``[64, 96, 3]`` uint8 of 4 x 6 blocks of unequal sizes, every block its own colour."""
    rng = np.random.default_rng(seed)
    colours = rng.permutation(256)[:ROWS * COLS * 3].reshape(-1, 3).astype(np.uint8)
    ids = np.arange(ROWS * COLS).reshape(ROWS, COLS).repeat(HEIGHTS, 0).repeat(WIDTHS, 1)
    return colours[ids]


def within(a, b):
    """Whether every region of labelling ``a`` lies inside one region of ``b``."""
    pairs = np.unique(np.stack([a.ravel(), b.ravel()]), axis=1)
    return pairs.shape[1] == len(np.unique(a))


def same_partition(a, b):
    """Whether the labellings ``a`` and ``b`` (same shape) cut the pixels the same way."""
    return within(a, b) and within(b, a)


def colour_ids(img):
    return np.unique(img.reshape(-1, 3), axis=0, return_inverse=True)[1].reshape(img.shape[:2])


def run(scope, steps, img):
    with DefaultScope.overwrite_default_scope(scope):
        pipeline = Compose([TRANSFORMS.build(step) for step in steps])
    results = dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2], img_path='blocks')
    return pipeline(results)


SUPERPIXELS = dict(type='Superpixels', num_segments=96, sigma=0.0)


def test_superpixels_of_blocks_follow_the_blocks():
    img = block_image()
    segments = compute_superpixels(img, num_segments=96, sigma=0.0)
    assert segments.shape == img.shape[:2] and segments.dtype == np.int32
    assert np.array_equal(np.unique(segments), np.arange(segments.max() + 1))
    assert segments.max() + 1 >= 2 * ROWS * COLS
    assert within(segments, colour_ids(img))


@pytest.mark.parametrize('geometric', [
    dict(type='RandomFlip', prob=1.0, direction='horizontal'),
    dict(type='RandomFlip', prob=1.0, direction='vertical'),
    dict(type='RandomCrop', crop_size=(40, 56)),
    dict(type='Resize', scale=(160, 112), keep_ratio=False, interpolation='nearest'),
    dict(type='RandomResize', scale=(96, 64), ratio_range=(1.3, 1.7), keep_ratio=True,
         interpolation='nearest'),
])
def test_mmseg_transforms_carry_the_map(geometric):
    """Superpixels first, then mmseg's own geometric transform: every segment of the packed
    map still lies inside one block of the transformed image; ids are contiguous."""
    img = block_image()
    np.random.seed(0)
    packed = run('mmseg', [SUPERPIXELS, geometric, dict(type='PackCASTSegInputs')], img)
    image = packed['inputs'].permute(1, 2, 0).numpy()
    segments = packed['data_samples'].superpixels.numpy()
    assert segments.shape == image.shape[:2] and segments.dtype == np.int64
    assert np.array_equal(np.unique(segments), np.arange(segments.max() + 1))
    assert len(np.unique(segments)) >= 12 and within(segments, colour_ids(image))
    if geometric['type'] == 'RandomFlip':  # the unflipped map would not fit
        assert not within(segments, colour_ids(img))


def test_mmseg_flip_without_the_map_would_misalign():
    """The check above can fail: a map that is not flipped does not follow the image."""
    img = block_image()
    segments = compute_superpixels(img, num_segments=96, sigma=0.0)
    assert within(segments, colour_ids(img))
    assert not within(segments, colour_ids(img[:, ::-1]))
    assert not within(segments, colour_ids(img[::-1]))


def test_mmpretrain_pipeline_superpixels_after_augmentation():
    img = block_image()
    np.random.seed(1)
    packed = run('mmpretrain', [
        dict(type='RandomResizedCrop', scale=48, interpolation='nearest'),
        dict(type='RandomFlip', prob=1.0, direction='horizontal'),
        dict(SUPERPIXELS, num_segments=16), dict(type='PackCASTInputs')], img)
    image = packed['inputs'].permute(1, 2, 0).numpy()
    segments = packed['data_samples'].superpixels.numpy()
    assert segments.shape == (48, 48)
    assert np.array_equal(np.unique(segments), np.arange(segments.max() + 1))
    # the superpixels of the augmented image itself
    assert np.array_equal(segments, compute_superpixels(image, num_segments=16, sigma=0.0))


def test_mmpretrain_flip_after_superpixels_is_an_error():
    with pytest.raises(SuperpixelError, match='image changed after Superpixels.*RandomFlip'):
        run('mmpretrain', [SUPERPIXELS, dict(type='RandomFlip', prob=1.0),
                           dict(type='PackCASTInputs')], block_image())


@pytest.mark.parametrize('scope, packer', [('mmpretrain', 'PackCASTInputs'),
                                           ('mmseg', 'PackCASTSegInputs')])
def test_missing_transform_is_an_error(scope, packer):
    with pytest.raises(SuperpixelError, match=f"{packer}: sample blocks has no 'superpixels'.*"
                       r"dict\(type='Superpixels'"):
        run(scope, [dict(type=packer)], block_image())


@pytest.mark.parametrize('scope, packer', [('mmpretrain', 'PackCASTInputs'),
                                           ('mmseg', 'PackCASTSegInputs')])
def test_map_of_another_size_is_an_error(scope, packer):
    img = block_image()
    with DefaultScope.overwrite_default_scope(scope):
        pack = TRANSFORMS.build(dict(type=packer))
    results = dict(img=img, img_path='blocks', superpixels=np.zeros((64, 95), np.int32))
    with pytest.raises(SuperpixelError, match=r'superpixel map is \(64, 95\) but the image is '
                       r'\(64, 96\)'):
        pack(results)


def test_relabel_contiguous_keeps_order_and_padding():
    segments = np.array([[7, 7, -1], [3, 12, 3]])
    assert np.array_equal(relabel_contiguous(segments), [[1, 1, -1], [0, 2, 0]])


def test_bad_arguments():
    with pytest.raises(SuperpixelError, match="method must be 'slic' or 'seeds'"):
        TRANSFORMS.build(dict(type='mmseg.Superpixels', method='quickshift'))
    with pytest.raises(SuperpixelError, match=r'\[H, W, 3\] image'):
        compute_superpixels(np.zeros((4, 4, 4), np.uint8))


def test_segment_area_scales_the_count_with_the_image():
    with DefaultScope.overwrite_default_scope('mmseg'):
        transform = TRANSFORMS.build(dict(type='Superpixels', segment_area=64, compactness=100))
    small = transform(dict(img=np.zeros((32, 32, 3), np.uint8)))['superpixels']
    large = transform(dict(img=np.zeros((64, 64, 3), np.uint8)))['superpixels']
    assert small.max() + 1 == 16 and large.max() + 1 == 64

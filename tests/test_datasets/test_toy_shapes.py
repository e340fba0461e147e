import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from hieraseg.datasets import ToyShapesDataset, generate_toy_shapes
from hieraseg.hierarchy import HierarchyError


def files(root):
    return sorted(os.path.relpath(osp.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def test_layout_and_determinism(tmp_path):
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    generate_toy_shapes(a, num_train=3, num_val=2, size=32, seed=5)
    generate_toy_shapes(b, num_train=3, num_val=2, size=32, seed=5)
    listed = files(a)
    assert listed == files(b)
    assert 'leftImg8bit/train/toyville/toyville_train_000002_leftImg8bit.png' in listed
    assert 'gtFine/val/toyville/toyville_val_000001_gtFine_labelTrainIds.png' in listed
    assert len(listed) == 2 * 5 + 1
    for name in listed:
        if name.endswith('.png'):
            assert np.array_equal(np.array(Image.open(osp.join(a, name))),
                                  np.array(Image.open(osp.join(b, name))))
    labels = np.array(Image.open(osp.join(a, listed[0])))
    assert labels.shape == (32, 32) and labels.max() <= 5
    image = np.array(Image.open(osp.join(a, listed[-6])))
    assert image.shape == (32, 32, 3)


def test_other_seed_differs_and_existing_root_is_kept(tmp_path):
    root = str(tmp_path / 'toy')
    generate_toy_shapes(root, num_train=2, num_val=1, size=32, seed=0)
    stamp = os.path.getmtime(osp.join(root, 'toy_shapes.json'))
    generate_toy_shapes(root, num_train=2, num_val=1, size=32, seed=0)  # same: no-op
    assert os.path.getmtime(osp.join(root, 'toy_shapes.json')) == stamp
    with pytest.raises(FileExistsError, match='remove it or choose another folder'):
        generate_toy_shapes(root, num_train=2, num_val=1, size=32, seed=1)
    with open(osp.join(root, 'toy_shapes.json')) as f:
        assert json.load(f)['seed'] == 0


def test_every_class_appears():
    rng = np.random.default_rng(0)
    from hieraseg.datasets.toy_shapes import render_sample
    seen = set()
    for _ in range(20):
        seen |= set(np.unique(render_sample(48, rng)[1]).tolist())
    assert seen == set(range(6))


def test_dataset_reads_it_through_the_mmseg_pipeline(tmp_path, mmseg_scope):
    root = str(tmp_path / 'toy')
    generate_toy_shapes(root, num_train=4, num_val=2, size=32, seed=0)
    dataset = ToyShapesDataset(
        data_root=root,
        data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                  dict(type='PackSegInputs')])
    assert len(dataset) == 4
    assert dataset.metainfo['hierarchy'] == 'toy_shapes'
    item = dataset[0]
    assert tuple(item['inputs'].shape) == (3, 32, 32)
    labels = item['data_samples'].gt_sem_seg.data
    expected = np.array(Image.open(dataset.get_data_info(0)['seg_map_path']))
    assert np.array_equal(labels[0].numpy(), expected)


def test_dataset_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='image folder .* does not exist'):
        ToyShapesDataset(data_root=str(tmp_path / 'nowhere'),
                         data_prefix=dict(img_path='leftImg8bit/train',
                                          seg_map_path='gtFine/train'))
    root = str(tmp_path / 'toy')
    generate_toy_shapes(root, num_train=1, num_val=1, size=32, seed=0)
    with pytest.raises(HierarchyError, match='has 19 leaf classes but ToyShapesDataset has 6'):
        ToyShapesDataset(data_root=root, metainfo=dict(hierarchy='cityscapes'),
                         data_prefix=dict(img_path='leftImg8bit/train',
                                          seg_map_path='gtFine/train'))


def test_shifted_split_leaves_the_other_splits_unchanged(tmp_path):
    plain, shifted = str(tmp_path / 'plain'), str(tmp_path / 'shifted')
    generate_toy_shapes(plain, num_train=3, num_val=2, size=32, seed=5)
    manifest = generate_toy_shapes(shifted, num_train=3, num_val=2, size=32, seed=5,
                                   num_val_shifted=4)
    assert manifest['num_val_shifted'] == 4
    listed = files(shifted)
    assert [f for f in listed if 'val_shifted' not in f and f.endswith('.png')] == \
        [f for f in files(plain) if f.endswith('.png')]
    for name in files(plain):
        if name.endswith('.png'):
            assert np.array_equal(np.array(Image.open(osp.join(plain, name))),
                                  np.array(Image.open(osp.join(shifted, name))))
    shifted_labels = [f for f in listed if f.startswith('gtFine/val_shifted/')]
    assert len(shifted_labels) == 4
    dataset = ToyShapesDataset(data_root=shifted, pipeline=[], data_prefix=dict(
        img_path='leftImg8bit/val_shifted', seg_map_path='gtFine/val_shifted'))
    assert len(dataset) == 4
    for name in shifted_labels:
        assert np.array(Image.open(osp.join(shifted, name))).max() <= 5


def test_shifted_images_are_drawn_differently():
    """Same random stream, shifted or not: shifted stripes are wider and the noise stronger."""
    from hieraseg.datasets.toy_shapes import _texture, render_sample
    rng = np.random.default_rng(0)
    periods = {shifted: set() for shifted in (False, True)}
    for shifted in (False, True):
        for _ in range(40):
            stripes = _texture('striped', 64, np.random.default_rng(rng.integers(1 << 30)),
                               shifted)
            row = stripes[0] if stripes[0].std() > 0 else stripes[:, 0]
            periods[shifted].add(int(np.ptp(np.flatnonzero(np.diff(row) > 0)[:2])))
    assert max(periods[False]) < min(periods[True])
    image, _ = render_sample(64, np.random.default_rng(1))
    noisy, _ = render_sample(64, np.random.default_rng(1), shifted=True)
    assert np.abs(np.diff(noisy.astype(float), axis=1)).mean() > \
        np.abs(np.diff(image.astype(float), axis=1)).mean()

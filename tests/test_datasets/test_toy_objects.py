"""The generated toy classification set with object masks (CAST's toy data)."""
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from hieraseg.datasets import TOY_OBJECT_CLASSES, ToyObjectsDataset, generate_toy_objects
from hieraseg.datasets.toy_objects import render_object_sample


def files(root):
    return sorted(osp.relpath(osp.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def test_layout_determinism_and_dataset(tmp_path):
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    generate_toy_objects(a, num_train=8, num_val=4, size=32, seed=3)
    generate_toy_objects(b, num_train=8, num_val=4, size=32, seed=3)
    assert files(a) == files(b) and len(files(a)) == 2 * 12 + 2 + 1
    for name in files(a):
        if name.endswith('.png'):
            assert np.array_equal(np.asarray(Image.open(osp.join(a, name))),
                                  np.asarray(Image.open(osp.join(b, name))))
    dataset = ToyObjectsDataset(a, split='val', pipeline=[])
    assert len(dataset) == 4 and dataset.metainfo['classes'] == TOY_OBJECT_CLASSES
    assert [dataset.get_data_info(i)['gt_label'] for i in range(4)] == [0, 1, 2, 3]
    info = dataset.get_data_info(2)
    assert info['mask_path'] == osp.join(a, 'masks', 'val', 'val_000002.png')
    mask = dataset.get_mask(2)
    assert mask.dtype == bool and mask.shape == (32, 32) and 0.05 < mask.mean() < 0.6
    with pytest.raises(FileExistsError, match='remove it or choose another folder'):
        generate_toy_objects(a, num_train=8, num_val=4, size=32, seed=4)
    with pytest.raises(ValueError, match="split must be 'train' or 'val'"):
        ToyObjectsDataset(a, split='test')


def test_object_pixels_differ_from_background():
    """The object is visible: its mean colour is far from the background's."""
    rng = np.random.default_rng(0)
    for cls in range(len(TOY_OBJECT_CLASSES)):
        image, mask = render_object_sample(cls, 64, rng)
        inside = image[mask.astype(bool)].astype(float).mean(0)
        outside = image[~mask.astype(bool)].astype(float).mean(0)
        assert np.abs(inside - outside).max() > 20


def test_shapes_differ_by_class():
    """Same random stream, other class: another mask (class = shape)."""
    masks = [render_object_sample(cls, 64, np.random.default_rng(1))[1]
             for cls in range(len(TOY_OBJECT_CLASSES))]
    areas = [m.sum() for m in masks]
    assert len(set(areas)) == len(areas)

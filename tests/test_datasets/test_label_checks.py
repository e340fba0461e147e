"""Data set checks at build time: empty image folders, label values outside the classes."""
import os.path as osp
import shutil

import numpy as np
import pytest
from PIL import Image

from hieraseg.datasets import ToyShapesDataset, generate_toy_shapes
from hieraseg.datasets.label_scan import scan_label_files

PREFIX = dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train')


@pytest.fixture
def toy(tmp_path, monkeypatch):
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))
    root = tmp_path / 'toy'
    generate_toy_shapes(str(root), num_train=4, num_val=1, size=16, seed=0)
    return root


def label_files(root):
    return sorted(str(p) for p in (root / 'gtFine' / 'train').rglob('*.png'))


def test_a_label_outside_the_classes_names_the_file(toy):
    ToyShapesDataset(data_root=str(toy), data_prefix=PREFIX, check_labels=True)
    bad = label_files(toy)[2]
    labels = np.asarray(Image.open(bad)).copy()
    labels[3, 3] = 9
    Image.fromarray(labels).save(bad)
    with pytest.raises(ValueError, match=f'ToyShapesDataset: label file {bad} holds the value '
                       r'9, outside the 6 classes \(0..5\) and not the ignore index 255'):
        ToyShapesDataset(data_root=str(toy), data_prefix=PREFIX, check_labels=True)
    ToyShapesDataset(data_root=str(toy), data_prefix=PREFIX)  # off by default


def test_the_scan_reads_only_new_or_changed_files(toy):
    paths = label_files(toy)
    assert scan_label_files(paths, 6) == 4
    assert scan_label_files(paths, 6) == 0  # cached by size and mtime
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(paths[0])
    assert scan_label_files(paths, 6) == 1
    assert scan_label_files(paths, 7) == 4  # other classes: another cache
    # reduce_zero_label: file value 6 is class 5, 0 and 255 are ignored
    Image.fromarray(np.array([[0, 6, 255]], np.uint8)).save(paths[1])
    scan_label_files(paths, 6, reduce_zero_label=True)
    with pytest.raises(ValueError, match='holds the value 6'):
        scan_label_files(paths, 6)


def test_an_empty_image_folder_names_the_folder_and_the_suffix(toy):
    shutil.rmtree(toy / 'leftImg8bit' / 'train')
    (toy / 'leftImg8bit' / 'train' / 'toyville').mkdir(parents=True)
    folder = osp.join(str(toy), 'leftImg8bit/train')
    with pytest.raises(FileNotFoundError,
                       match=f"image folder '{folder}' .* holds no file ending in "
                       "img_suffix='_leftImg8bit.png'"):
        ToyShapesDataset(data_root=str(toy), data_prefix=PREFIX)

"""Cityscapes polygon JSONs / labelIds PNGs -> labelTrainIds PNGs and split files, loaded by
HieraCityscapesDataset and trained on for one iteration."""
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest
from PIL import Image

from hieraseg.datasets import HieraCityscapesDataset
from tests.training import train_one_iteration
from .conftest import load_converter, snapshot

H, W = 16, 32


def write_raw(root, bad_label=None, bad_id=None):
    """A train frame with polygons, a val frame with only a labelIds PNG."""
    rng = np.random.default_rng(0)
    frames = [('train', 'aachen', 'aachen_000000_000019'),
              ('val', 'lindau', 'lindau_000001_000019')]
    for split, city, name in frames:
        img_dir = osp.join(root, 'leftImg8bit', split, city)
        gt_dir = osp.join(root, 'gtFine', split, city)
        os.makedirs(img_dir)
        os.makedirs(gt_dir)
        Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8)).save(
            osp.join(img_dir, name + '_leftImg8bit.png'))
    objects = [
        dict(label='road', polygon=[[0, 8], [31, 8], [31, 15], [0, 15]]),       # id 7 -> 0
        dict(label='sky', polygon=[[0, 0], [31, 0], [31, 3], [0, 3]]),          # id 23 -> 10
        dict(label='cargroup', polygon=[[20, 9], [28, 9], [28, 13], [20, 13]]),  # car -> 13
        dict(label='ego vehicle', polygon=[[0, 14], [5, 14], [5, 15], [0, 15]]),  # -> 255
    ]
    if bad_label:
        objects.append(dict(label=bad_label, polygon=[[1, 1], [2, 1], [2, 2]]))
    with open(osp.join(root, 'gtFine', 'train', 'aachen',
                       'aachen_000000_000019_gtFine_polygons.json'), 'w') as f:
        json.dump(dict(imgHeight=H, imgWidth=W, objects=objects), f)
    ids = np.full((H, W), 7, dtype=np.uint8)  # road
    ids[:4] = 23  # sky
    ids[4:8, :8] = 24  # person -> 11
    ids[8:, 30:] = 0  # unlabeled -> 255
    if bad_id is not None:
        ids[0, 0] = bad_id
    Image.fromarray(ids).save(osp.join(root, 'gtFine', 'val', 'lindau',
                                       'lindau_000001_000019_gtFine_labelIds.png'))


def test_converts_loads_and_trains(tmp_path, mmseg_scope):
    pytest.importorskip('cityscapesscripts')
    raw, out = str(tmp_path / 'raw'), str(tmp_path / 'cityscapes')
    write_raw(raw)
    before = snapshot(raw)
    converter = load_converter('cityscapes')
    converter.main([raw, '-o', out])
    assert snapshot(raw) == before
    train = np.array(Image.open(osp.join(out, 'gtFine/train/aachen/'
                                         'aachen_000000_000019_gtFine_labelTrainIds.png')))
    assert train[12, 10] == 0 and train[1, 10] == 10 and train[11, 24] == 13
    assert train[5, 10] == 255 and train[14, 2] == 255  # unlabeled; ego vehicle
    val = np.array(Image.open(osp.join(out, 'gtFine/val/lindau/'
                                       'lindau_000001_000019_gtFine_labelTrainIds.png')))
    assert val[0, 20] == 10 and val[5, 2] == 11 and val[12, 10] == 0 and val[12, 31] == 255
    with open(osp.join(out, 'train.txt')) as f:
        assert f.read() == 'aachen/aachen_000000_000019\n'
    with open(osp.join(out, 'val.txt')) as f:
        assert f.read() == 'lindau/lindau_000001_000019\n'
    assert osp.islink(osp.join(out, 'leftImg8bit'))

    stamp = os.stat(osp.join(out, 'gtFine/val/lindau/'
                             'lindau_000001_000019_gtFine_labelTrainIds.png')).st_mtime_ns
    converter.main([raw, '-o', out, '--nproc', '2'])  # idempotent
    assert os.stat(osp.join(out, 'gtFine/val/lindau/'
                            'lindau_000001_000019_gtFine_labelTrainIds.png')).st_mtime_ns == stamp

    for split in ('train', 'val'):
        dataset = HieraCityscapesDataset(
            data_root=out, data_prefix=dict(img_path=f'leftImg8bit/{split}',
                                            seg_map_path=f'gtFine/{split}'),
            check_labels=True, pipeline=[])
        assert len(dataset) == 1
    train_one_iteration(dict(type='HieraCityscapesDataset', data_root=out,
                             data_prefix=dict(img_path='leftImg8bit/train',
                                              seg_map_path='gtFine/train')), 'cityscapes')


def test_errors_before_anything_is_written(tmp_path):
    pytest.importorskip('cityscapesscripts')
    converter = load_converter('cityscapes')
    raw, out = str(tmp_path / 'raw'), str(tmp_path / 'out')
    write_raw(raw, bad_label='flying saucer')
    with pytest.raises(ValueError, match=r"aachen_000000_000019_gtFine_polygons.json: object 4 "
                       r"has the label 'flying saucer'"):
        converter.main([raw, '-o', out])
    assert not osp.exists(out)
    raw2 = str(tmp_path / 'raw2')
    write_raw(raw2, bad_id=77)
    with pytest.raises(ValueError, match=r'lindau_000001_000019_gtFine_labelIds.png: label id '
                       r'77 is not a Cityscapes label id'):
        converter.main([raw2, '-o', out])
    os.remove(osp.join(raw2, 'leftImg8bit/val/lindau/lindau_000001_000019_leftImg8bit.png'))
    with pytest.raises(FileNotFoundError, match=r'no image: .*lindau_000001_000019_leftImg8bit'):
        converter.main([raw2, '-o', out])
    assert not osp.exists(out)


def test_missing_cityscapesscripts_is_a_clear_message(tmp_path, monkeypatch):
    converter = load_converter('cityscapes')
    monkeypatch.setitem(sys.modules, 'cityscapesscripts', None)
    monkeypatch.setitem(sys.modules, 'cityscapesscripts.helpers', None)
    with pytest.raises(SystemExit, match='needs the cityscapesscripts package: pip install '
                       'cityscapesscripts'):
        converter.main([str(tmp_path), '-o', str(tmp_path / 'out')])

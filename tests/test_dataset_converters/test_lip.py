"""The LIP release checked, split lists written, loaded by HieraLIPDataset (with the lists as
ann_file) and trained on for one iteration."""
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from hieraseg.datasets import HieraLIPDataset
from tests.training import train_one_iteration
from .conftest import load_converter, snapshot

IDS = {'train': ['100034_483681', '10005_205677', '77_471474'], 'val': ['100002_236378']}


def write_raw(root, bad_value=None):
    rng = np.random.default_rng(0)
    for split, ids in IDS.items():
        img_dir = osp.join(root, 'TrainVal_images', f'{split}_images')
        ann_dir = osp.join(root, 'TrainVal_parsing_annotations', f'{split}_segmentations')
        os.makedirs(img_dir)
        os.makedirs(ann_dir)
        for image_id in ids:
            Image.fromarray(rng.integers(0, 256, (14, 10, 3), dtype=np.uint8)).save(
                osp.join(img_dir, image_id + '.jpg'))
            labels = rng.integers(0, 20, (14, 10)).astype(np.uint8)
            if bad_value is not None and image_id == ids[-1]:
                labels[2, 2] = bad_value
            Image.fromarray(labels).save(osp.join(ann_dir, image_id + '.png'))
        with open(osp.join(root, 'TrainVal_images', f'{split}_id.txt'), 'w') as f:
            f.write('\n'.join(ids) + '\n')


def test_checks_writes_lists_loads_and_trains(tmp_path, mmseg_scope):
    raw, out = str(tmp_path / 'raw'), str(tmp_path / 'lip')
    write_raw(raw)
    before = snapshot(raw)
    load_converter('lip').main([raw, '-o', out, '--nproc', '2'])
    assert snapshot(raw) == before
    for split, ids in IDS.items():
        with open(osp.join(out, f'{split}.txt')) as f:
            assert f.read().split() == ids
    cfg = dict(data_root=out, ann_file='train.txt',
               data_prefix=dict(img_path='TrainVal_images/train_images',
                                seg_map_path='TrainVal_parsing_annotations/train_segmentations'))
    dataset = HieraLIPDataset(**cfg, check_labels=True, pipeline=[])
    assert [osp.basename(dataset[i]['img_path']) for i in range(3)] == \
        [i + '.jpg' for i in IDS['train']]
    train_one_iteration(dict(cfg, type='HieraLIPDataset'), 'lip')


def test_reports_what_is_missing_or_wrong(tmp_path):
    converter = load_converter('lip')
    raw, out = str(tmp_path / 'raw'), str(tmp_path / 'out')
    write_raw(raw, bad_value=42)
    with pytest.raises(ValueError, match=r'77_471474.png: label value 42 is outside'):
        converter.main([raw, '-o', out])
    assert not osp.exists(out)
    os.remove(osp.join(raw, 'TrainVal_images', 'train_images', '10005_205677.jpg'))
    with pytest.raises(FileNotFoundError, match=r'1 files of the 3 ids in .*train_id.txt are '
                       r'missing, the first: .*10005_205677.jpg'):
        converter.main([raw, '-o', out])
    os.remove(osp.join(raw, 'TrainVal_images', 'val_id.txt'))
    with pytest.raises(FileNotFoundError, match=r'TrainVal_images/val_id.txt does not exist'):
        converter.main([raw, '-o', out])
    assert not osp.exists(out)

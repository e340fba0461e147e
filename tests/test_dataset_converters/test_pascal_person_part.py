"""PASCAL-Part .mat annotations -> PASCAL-Person-Part PNGs and split lists, loaded by
PascalPersonPartDataset and trained on for one iteration."""
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from hieraseg.datasets import PascalPersonPartDataset
from tests.training import train_one_iteration
from .conftest import load_converter, snapshot

H, W = 12, 16


def struct_array(fields, rows):
    array = np.zeros((1, len(rows)), dtype=[(f, 'O') for f in fields])
    for i, row in enumerate(rows):
        array[0, i] = row
    return array


def mask(y0, y1, x0, x1):
    m = np.zeros((H, W), dtype=np.uint8)
    m[y0:y1, x0:x1] = 1
    return m


def write_mat(path, objects):
    """A PASCAL-Part annotation: struct anno with imname and objects(class, class_ind, mask,
    parts(part_name, mask))."""
    from scipy.io import savemat
    rows = []
    for cls, parts in objects:
        part_array = struct_array(['part_name', 'mask'], parts) if parts else np.zeros((0, 0))
        whole = np.zeros((H, W), dtype=np.uint8)
        for _, m in parts:
            whole |= m
        rows.append((cls, 15 if cls == 'person' else 7, whole, part_array))
    anno = struct_array(['imname', 'objects'],
                        [(osp.splitext(osp.basename(path))[0],
                          struct_array(['class', 'class_ind', 'mask', 'parts'], rows))])
    savemat(path, {'anno': anno})


PERSON = ('person', [('head', mask(0, 3, 4, 8)), ('hair', mask(0, 1, 4, 8)),
                     ('torso', mask(3, 7, 3, 9)), ('luarm', mask(3, 5, 9, 11)),
                     ('lhand', mask(5, 7, 9, 11)), ('ruleg', mask(7, 10, 3, 6)),
                     ('rfoot', mask(10, 12, 3, 6))])
CAR = ('car', [('frontside', mask(0, 5, 12, 16))])


def write_raw(root, bad_part=False):
    os.makedirs(osp.join(root, 'Annotations_Part'))
    os.makedirs(osp.join(root, 'JPEGImages'))
    os.makedirs(osp.join(root, 'ImageSets', 'Main'))
    content = {'2008_000001': [PERSON, CAR], '2008_000002': [CAR],
               '2008_000003': [PERSON], '2008_000004': [PERSON]}
    if bad_part:
        content['2008_000004'] = [('person', [('tail', mask(0, 2, 0, 2))])]
    rng = np.random.default_rng(0)
    for image_id, objects in content.items():
        write_mat(osp.join(root, 'Annotations_Part', image_id + '.mat'), objects)
        Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8)).save(
            osp.join(root, 'JPEGImages', image_id + '.jpg'))
    with open(osp.join(root, 'ImageSets', 'Main', 'train.txt'), 'w') as f:
        f.write('2008_000001\n2008_000002\n2008_000003\n')
    with open(osp.join(root, 'ImageSets', 'Main', 'val.txt'), 'w') as f:
        f.write('2008_000004\n')


def test_converts_loads_and_trains(tmp_path, mmseg_scope):
    raw, out = str(tmp_path / 'raw'), str(tmp_path / 'ppp')
    write_raw(raw)
    before = snapshot(raw)
    converter = load_converter('pascal_person_part')
    converter.main([raw, '-o', out])
    assert snapshot(raw) == before  # the raw files are only read
    with open(osp.join(out, 'train_id.txt')) as f:
        assert f.read().split() == ['2008_000001', '2008_000003']  # 2: no person
    with open(osp.join(out, 'val_id.txt')) as f:
        assert f.read().split() == ['2008_000004']
    labels = np.array(Image.open(osp.join(out, 'SegmentationPart', '2008_000001.png')))
    assert labels.shape == (H, W) and labels.dtype == np.uint8
    assert labels[0, 5] == 1 and labels[2, 5] == 1  # hair and head -> head
    assert labels[4, 5] == 2 and labels[4, 10] == 3  # torso; left upper arm
    assert labels[6, 10] == 4  # left hand -> lower arm
    assert labels[8, 4] == 5 and labels[11, 4] == 6  # right upper leg; right foot
    assert labels[1, 14] == 0  # the car is background
    assert set(np.unique(labels)) == set(range(7))
    assert not osp.exists(osp.join(out, 'SegmentationPart', '2008_000002.png'))
    assert not [n for n in os.listdir(osp.join(out, 'SegmentationPart')) if 'partial' in n]

    # idempotent: a second run rewrites nothing
    stamp = os.stat(osp.join(out, 'SegmentationPart', '2008_000001.png')).st_mtime_ns
    converter.main([raw, '-o', out, '--nproc', '2'])
    assert os.stat(osp.join(out, 'SegmentationPart', '2008_000001.png')).st_mtime_ns == stamp

    dataset_cfg = dict(type='PascalPersonPartDataset', data_root=out, ann_file='train_id.txt',
                       data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationPart'),
                       check_labels=True)
    kwargs = {k: v for k, v in dataset_cfg.items() if k != 'type'}
    assert len(PascalPersonPartDataset(**kwargs, pipeline=[])) == 2
    train_one_iteration(dataset_cfg, 'pascal_person_part')


def test_errors_before_anything_is_written(tmp_path):
    converter = load_converter('pascal_person_part')
    raw, out = str(tmp_path / 'raw'), str(tmp_path / 'ppp')
    write_raw(raw, bad_part=True)
    with pytest.raises(ValueError, match=r"2008_000004.mat: person \(object 1\) has the part "
                       r"name 'tail'"):
        converter.main([raw, '-o', out])
    assert not osp.exists(out)
    os.remove(osp.join(raw, 'Annotations_Part', '2008_000003.mat'))
    with pytest.raises(FileNotFoundError, match=r'Annotations_Part/2008_000003.mat does not'):
        converter.main([raw, '-o', out])
    with pytest.raises(FileNotFoundError, match=r'nowhere/Annotations_Part does not exist'):
        converter.main([str(tmp_path / 'nowhere'), '-o', out])
    assert not osp.exists(out)


def test_a_split_list_cannot_write_outside_the_output_folder(tmp_path):
    raw, out = str(tmp_path / 'raw'), str(tmp_path / 'ppp')
    write_raw(raw)
    with open(osp.join(raw, 'ImageSets', 'Main', 'val.txt'), 'a') as f:
        f.write('../../escaped\n')
    with pytest.raises(ValueError, match=r"val.txt, line 2: '../../escaped' is not a relative "
                       'name inside the data set'):
        load_converter('pascal_person_part').main([raw, '-o', out])
    assert not osp.exists(out) and not osp.exists(tmp_path / 'escaped.png')

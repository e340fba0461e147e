"""A Mapillary Vistas 2.0 download checked (layout, config, palette-PNG class ids), loaded by
HieraMapillaryDataset_v2 and trained on for one iteration; nothing is written."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from mmseg.datasets import MapillaryDataset_v2
from PIL import Image

from hieraseg.datasets import HieraMapillaryDataset_v2
from hieraseg.hierarchy import MAPILLARY_V2_CLASSES
from tests.training import train_one_iteration
from .conftest import load_converter, snapshot

PALETTE = [tuple(c) for c in MapillaryDataset_v2.METAINFO['palette']]


def save_palette_png(path, labels, palette=PALETTE):
    image = Image.fromarray(labels.astype(np.uint8), mode='L').convert('P')
    image.putpalette([c for rgb in palette for c in rgb])
    image.putdata(labels.reshape(-1).tolist())
    image.save(path)


def write_raw(root, config_labels=None):
    rng = np.random.default_rng(0)
    labels_cfg = config_labels or [dict(name=n.lower().replace(' ', '--'), readable=n,
                                        color=list(c), instances=False, evaluate=True)
                                   for n, c in zip(MAPILLARY_V2_CLASSES, PALETTE)]
    os.makedirs(root)
    with open(osp.join(root, 'config_v2.0.json'), 'w') as f:
        json.dump(dict(labels=labels_cfg, version='2.0'), f)
    for split, stems in (('training', ['-0A4cGgp2ah1ANUMwE1GVg', '0035fkbjWljhaftpVM37-g']),
                         ('validation', ['_1Gn_xkw7sa_i9GU4mkxxQ'])):
        os.makedirs(osp.join(root, split, 'images'))
        os.makedirs(osp.join(root, split, 'v2.0', 'labels'))
        for stem in stems:
            Image.fromarray(rng.integers(0, 256, (12, 18, 3), dtype=np.uint8)).save(
                osp.join(root, split, 'images', stem + '.jpg'))
            labels = rng.integers(0, 124, (12, 18))
            labels[0, 0] = 123
            save_palette_png(osp.join(root, split, 'v2.0', 'labels', stem + '.png'), labels)


def test_checks_loads_and_trains(tmp_path, mmseg_scope):
    raw = str(tmp_path / 'mapillary')
    write_raw(raw)
    before = snapshot(raw)
    load_converter('mapillary_v2').main([raw, '--nproc', '2'])
    assert snapshot(raw) == before  # nothing written
    cfg = dict(data_root=raw, data_prefix=dict(img_path='training/images',
                                               seg_map_path='training/v2.0/labels'))
    assert len(HieraMapillaryDataset_v2(**cfg, check_labels=True, pipeline=[])) == 2
    train_one_iteration(dict(cfg, type='HieraMapillaryDataset_v2'), 'mapillary_v2')


def label_path(raw, split='training', stem='0035fkbjWljhaftpVM37-g'):
    return osp.join(raw, split, 'v2.0', 'labels', stem + '.png')


def test_bad_downloads_are_named(tmp_path):
    check = load_converter('mapillary_v2').main
    raw = str(tmp_path / 'm')
    write_raw(raw)
    Image.fromarray(np.zeros((12, 18, 3), np.uint8)).save(label_path(raw))
    with pytest.raises(ValueError, match=r'0035fkbjWljhaftpVM37-g.png: a RGB image'):
        check([raw])
    save_palette_png(label_path(raw), np.full((12, 18), 130))
    with pytest.raises(ValueError, match=r'0035fkbjWljhaftpVM37-g.png: label value 130 is '
                       r'outside the 124'):
        check([raw])
    save_palette_png(label_path(raw), np.full((12, 18), 3), palette=PALETTE[::-1])
    with pytest.raises(ValueError, match=r'index 3 has the palette colour .* not v2.0 class'):
        check([raw])
    check([raw, '--no-palette-check'])
    os.remove(label_path(raw))
    with pytest.raises(FileNotFoundError, match=r'an image of training has no label: .*'
                       r'0035fkbjWljhaftpVM37-g.png'):
        check([raw])

    v12 = str(tmp_path / 'v12')
    write_raw(v12, config_labels=[dict(readable=f'c{i}', color=[i, i, i]) for i in range(66)])
    with pytest.raises(ValueError, match=r'config_v2.0.json: 66 labels, Mapillary Vistas 2.0 '
                       r'has 124'):
        check([v12])
    with pytest.raises(FileNotFoundError, match=r'nowhere/config_v2.0.json does not exist'):
        check([str(tmp_path / 'nowhere')])

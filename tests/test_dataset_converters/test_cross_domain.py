"""The cross-domain converters (ACDC, BDD100K, Mapillary 2.0 -> Cityscapes, IDD, WildDash 2) on
tiny files in each release's layout: exact train ids, the shared output layout read by
HieraCityscapesDataset with the configs' settings, and clear errors before any output."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from hieraseg.datasets import HieraCityscapesDataset
from . import cross_domain_releases as releases
from .conftest import REPO, load_converter, snapshot

TARGETS = {  # converter, release writer, base config of the target
    'acdc': ('acdc', releases.write_acdc, 'acdc'),
    'bdd100k': ('bdd100k', releases.write_bdd100k, 'bdd100k'),
    'mapillary_v2': ('mapillary_v2_to_cityscapes', releases.write_mapillary, 'mapillary_v2'),
    'idd': ('idd', releases.write_idd, 'idd'),
    'wilddash2': ('wilddash2', releases.write_wilddash, 'wilddash2'),
}


def convert(target, tmp_path, *options):
    """Writes the release, converts it; returns (data_root, expected train ids by stem)."""
    converter, write, _ = TARGETS[target]
    raw, out = str(tmp_path / f'{target}_raw'), str(tmp_path / target)
    expected = write(raw)
    before = snapshot(raw)
    if target == 'bdd100k':
        load_converter(converter).main([raw, *options])
        out = raw  # read as released
    else:
        load_converter(converter).main([raw, '-o', out, *options])
    assert snapshot(raw) == before  # the release is only read
    return out, expected


def target_dataset(target, data_root):
    """The data set of configs/_base_/datasets/cross_domain/<target>.py at ``data_root``."""
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets/cross_domain',
                                   TARGETS[target][2] + '.py'))
    settings = dict(cfg.target_dataset, data_root=data_root, pipeline=[])
    settings.pop('type')
    return HieraCityscapesDataset(**settings)


@pytest.mark.parametrize('target', sorted(TARGETS))
def test_converted_labels_are_the_expected_train_ids(target, tmp_path):
    data_root, expected = convert(target, tmp_path)
    dataset = target_dataset(target, data_root)
    assert len(dataset) == len(expected)
    found = {}
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        assert osp.isfile(info['img_path']), info['img_path']
        rel = osp.relpath(info['seg_map_path'], dataset.data_prefix['seg_map_path'])
        stem = rel[:-len(dataset.seg_map_suffix)].replace(os.sep, '/')
        found[stem] = np.array(Image.open(info['seg_map_path']))
    assert sorted(found) == sorted(expected)
    for stem, labels in expected.items():
        np.testing.assert_array_equal(found[stem], labels, err_msg=stem)


def test_acdc_keep_invalid_and_a_second_run_rewrites_nothing(tmp_path):
    out, expected = convert('acdc', tmp_path, '--keep-invalid')
    stem = releases.ACDC_FRAMES[0]
    kept = np.array(Image.open(osp.join(out, 'labels', stem + '_labelTrainIds.png')))
    assert (kept[:3] != 255).any() and (expected[stem][:3] == 255).all()
    path = osp.join(out, 'labels', stem + '_labelTrainIds.png')
    stamp = os.stat(path).st_mtime_ns
    load_converter('acdc').main([str(tmp_path / 'acdc_raw'), '-o', out, '--keep-invalid',
                                 '--nproc', '2'])
    assert os.stat(path).st_mtime_ns == stamp
    with open(osp.join(out, 'val.txt')) as f:
        assert f.read().split() == sorted(releases.ACDC_FRAMES)


def test_every_cityscapes_class_has_a_source():
    """The 19 classes all occur in the Mapillary and WildDash tables; IDD's level 3 has no
    terrain and no train (hierahyp's table)."""
    tables = {name: load_converter(name).train_id_table()[0]
              for name in ('mapillary_v2_to_cityscapes', 'idd')}
    wilddash = load_converter('wilddash2').category_train_ids()
    assert set(tables['mapillary_v2_to_cityscapes'][:124].tolist()) == set(range(19)) | {255}
    assert set(wilddash.values()) == set(range(19)) | {255}
    assert set(tables['idd'][:26].tolist()) == (set(range(19)) - {9, 16}) | {255}


def test_wilddash_table_equals_the_published_cityscapes_conversion():
    """hierahyp's preprocess_ood_datasets/label_conversion.json, key "wilddash" (-1 and absent
    ids: ignore), against ours from WildDash's label policy."""
    published = {7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10,
                 24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18, 34: 14, 35: 13,
                 38: 0, 41: 0, 43: 0, 45: 5, 46: 5, 47: 12, 48: 12, 49: 12, 52: 1, 56: 3, 58: 17,
                 61: 0, 64: 0, 65: 1, 70: 0, 74: 0, 75: 0, 76: 0, 77: 1, 78: 9, 79: 0, 80: 1}
    ours = load_converter('wilddash2').category_train_ids()
    assert {cid: tid for cid, tid in ours.items() if tid != 255} == published
    assert len(ours) == 81


# ----------------------------------------------------------------------------- bad input
def expect_error(target, tmp_path, error, match, write_kwargs=None, edit=None, options=()):
    converter, write, _ = TARGETS[target]
    raw, out = str(tmp_path / 'raw'), str(tmp_path / 'out')
    write(raw, **(write_kwargs or {}))
    if edit is not None:
        edit(raw)
    args = [raw] if target == 'bdd100k' else [raw, '-o', out]
    with pytest.raises(error, match=match):
        load_converter(converter).main(args + list(options))
    assert not osp.exists(out)


def test_acdc_errors(tmp_path):
    stem = releases.ACDC_FRAMES[1]

    def bad_train_id(raw):
        releases._png(osp.join(raw, 'gt', stem + '_gt_labelTrainIds.png'),
                      releases.stripes([0, 19]))

    def bad_mask(raw):
        releases._png(osp.join(raw, 'gt', stem + '_gt_invIds.png'), releases.stripes([0, 2]))

    def no_mask(raw):
        os.remove(osp.join(raw, 'gt', stem + '_gt_invIds.png'))

    expect_error('acdc', tmp_path / 'a', ValueError,
                 r'GP010376_frame_000001_gt_labelTrainIds.png: label id 19 is not a '
                 r'Cityscapes train label id', edit=bad_train_id)
    expect_error('acdc', tmp_path / 'b', ValueError,
                 r'_gt_invIds.png: label id 2 is not a ACDC invalid-mask', edit=bad_mask)
    expect_error('acdc', tmp_path / 'c', FileNotFoundError,
                 r'no label file: .*GP010376_frame_000001_gt_invIds.png', edit=no_mask)
    raw = str(tmp_path / 'd')
    releases.write_acdc(raw)
    with pytest.raises(ValueError, match='is \\(inside\\) the input folder'):
        load_converter('acdc').main([raw, '-o', osp.join(raw, 'converted')])


def test_bdd100k_errors(tmp_path):
    name = releases.BDD_NAMES[0]

    def colour_mask(raw):
        path = osp.join(raw, 'labels', 'sem_seg', 'masks', 'val', name + '.png')
        Image.fromarray(np.zeros((4, 4, 3), dtype=np.uint8)).save(path)

    def no_mask(raw):
        os.remove(osp.join(raw, 'labels', 'sem_seg', 'masks', 'val', name + '.png'))

    expect_error('bdd100k', tmp_path / 'a', ValueError,
                 f'{name}.png: a RGB image; expected a single-channel', edit=colour_mask)
    expect_error('bdd100k', tmp_path / 'b', FileNotFoundError,
                 f'has no mask: .*{name}.png', edit=no_mask)


def test_mapillary_errors(tmp_path):
    def bad_value(raw):
        from .test_mapillary_v2 import save_palette_png
        save_palette_png(osp.join(raw, 'validation', 'v2.0', 'labels',
                                  '_1Gn_xkw7sa_i9GU4mkxxQ.png'), np.full((4, 4), 200))

    expect_error('mapillary_v2', tmp_path / 'a', ValueError,
                 '_1Gn_xkw7sa_i9GU4mkxxQ.png: label id 200 is not a Mapillary Vistas 2.0 '
                 'class label id', edit=bad_value)


def test_idd_errors(tmp_path):
    expect_error('idd', tmp_path / 'a', ValueError,
                 r"frame0199_gtFine_polygons.json: object 7 has the label 'flying saucer'",
                 write_kwargs=dict(extra_objects=[dict(label='flying saucer',
                                                       polygon=[[0, 0], [1, 1], [0, 1]])]))
    expect_error('idd', tmp_path / 'b', ValueError,
                 r"object 7 \('road'\) has no polygon of \[x, y\] points",
                 write_kwargs=dict(extra_objects=[dict(label='road', polygon=[[0, 'a', 3]])]))

    def level3_out_of_range(raw):
        releases._png(osp.join(raw, 'gtFine', 'val', '1', 'frame0420_gtFine_labellevel3Ids.png'),
                      releases.stripes([0, 26]))

    expect_error('idd', tmp_path / 'c', ValueError,
                 'frame0420_gtFine_labellevel3Ids.png: label id 26 is not a IDD level-3',
                 edit=level3_out_of_range)

    def not_json(raw):
        with open(osp.join(raw, 'gtFine', 'val', '0', 'frame0199_gtFine_polygons.json'),
                  'w') as f:
            f.write('{"objects": [')

    expect_error('idd', tmp_path / 'd', ValueError, 'frame0199_gtFine_polygons.json: not '
                 'valid JSON', edit=not_json)


def test_wilddash_errors(tmp_path):
    expect_error('wilddash2', tmp_path / 'a', ValueError,
                 r"panoptic.json: annotation file_name '../../escape.png' is not a plain file "
                 r'name', write_kwargs=dict(annotation_name='../../escape.png'))
    categories = releases.wilddash_categories()
    categories[35]['name'] = 'spaceship'
    expect_error('wilddash2', tmp_path / 'b', ValueError,
                 r"panoptic.json: category 35 'spaceship' is not a WildDash 2 category",
                 write_kwargs=dict(categories=categories))
    expect_error('wilddash2', tmp_path / 'c', ValueError,
                 r'at0000_000001.png: segment id 99 is not in panoptic.json',
                 write_kwargs=dict(extra_segment_id=99))
    list_file = tmp_path / 'list.txt'
    list_file.write_text('at0000_000001.jpg\nat9999_000000.jpg\n')
    expect_error('wilddash2', tmp_path / 'd', ValueError,
                 r"list.txt: 'at9999_000000' has no annotation",
                 options=['--list', str(list_file)])


def test_wilddash_list_keeps_only_the_named_images(tmp_path):
    list_file = tmp_path / 'list.txt'
    list_file.write_text('at0000_000001\n')
    out, _ = convert('wilddash2', tmp_path, '--list', str(list_file))
    with open(osp.join(out, 'val.txt')) as f:
        assert f.read() == 'at0000_000001\n'
    assert json.load(open(osp.join(tmp_path, 'wilddash2_raw', 'panoptic.json')))['images']

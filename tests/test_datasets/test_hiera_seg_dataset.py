"""HieraSegDataset: a custom data set in a layout of its own, with its hierarchy from a
file; and the custom config template, whose hierarchy is written once."""
import os
import os.path as osp

import numpy as np
import pytest
import yaml
from mmengine.config import Config
from PIL import Image

from hieraseg.datasets import HieraSegDataset
from hieraseg.hierarchy import HierarchyError, build_hierarchy
from hieraseg.utils import check_hierarchy_fits_data
from tests.training import CUSTOM_CONFIG, train_one_iteration

LEAVES = ['background', 'road', 'sidewalk', 'car', 'truck', 'tree', 'grass']
GROUPS = [{'background': ['background'], 'flat': ['road', 'sidewalk'],
           'vehicle': ['car', 'truck'], 'nature': ['tree', 'grass']},
          {'background': ['background'], 'scene': ['flat', 'nature'], 'thing': ['vehicle']}]


@pytest.fixture(autouse=True)
def label_check_cache(tmp_path, monkeypatch):
    """The label scan's cache in the test's folder, not the user's."""
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))


def write_custom(root, num=3, bad_value=None):
    """``num`` images ``images/<split>/<id>.jpg`` and labels ``annotations/<split>/<id>.png``
    (values 0..6 and 255), plus the hierarchy as YAML; returns the YAML path."""
    rng = np.random.default_rng(0)
    for split in ('train', 'val'):
        os.makedirs(osp.join(root, 'images', split), exist_ok=True)
        os.makedirs(osp.join(root, 'annotations', split), exist_ok=True)
        for i in range(num):
            Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(
                osp.join(root, 'images', split, f'frame{i}.jpg'))
            labels = rng.integers(0, len(LEAVES), (20, 24)).astype(np.uint8)
            labels[0, :3] = 255
            if bad_value is not None and i == num - 1:
                labels[5, 5] = bad_value
            Image.fromarray(labels).save(osp.join(root, 'annotations', split, f'frame{i}.png'))
    path = osp.join(root, 'hierarchy.yaml')
    with open(path, 'w') as f:
        yaml.safe_dump(dict(name='street', level_names=['class', 'category', 'kind'],
                            classes=LEAVES, groups=GROUPS), f, sort_keys=False)
    return path


def dataset_cfg(root, hierarchy, split='train', **kwargs):
    return dict(type='HieraSegDataset', data_root=str(root),
                data_prefix=dict(img_path=f'images/{split}', seg_map_path=f'annotations/{split}'),
                metainfo=dict(hierarchy=hierarchy), **kwargs)


def test_classes_come_from_the_hierarchy_file(tmp_path):
    path = write_custom(str(tmp_path))
    cfg = dataset_cfg(tmp_path, path, check_labels=True)
    cfg.pop('type')
    dataset = HieraSegDataset(**cfg, pipeline=[])
    assert len(dataset) == 3
    assert list(dataset.metainfo['classes']) == LEAVES
    assert len(dataset.metainfo['palette']) == len(LEAVES)
    # dataset_meta holds the plain dict form (no file path in checkpoints)
    meta_hierarchy = dataset.metainfo['hierarchy']
    assert isinstance(meta_hierarchy, dict) and 'parents' in meta_hierarchy
    assert build_hierarchy(meta_hierarchy) == build_hierarchy(path)
    assert build_hierarchy(meta_hierarchy).level_sizes == (7, 4, 3)


def test_errors(tmp_path):
    path = write_custom(str(tmp_path), bad_value=9)
    with pytest.raises(HierarchyError, match='needs a class hierarchy'):
        HieraSegDataset(data_root=str(tmp_path), pipeline=[])
    with pytest.raises(HierarchyError, match='leaf classes differ'):
        HieraSegDataset(data_root=str(tmp_path), pipeline=[],
                        data_prefix=dict(img_path='images/train',
                                         seg_map_path='annotations/train'),
                        metainfo=dict(hierarchy=path, classes=LEAVES[::-1]))
    with pytest.raises(ValueError, match=r'frame2.png.*9'):
        HieraSegDataset(data_root=str(tmp_path), pipeline=[], check_labels=True,
                        data_prefix=dict(img_path='images/val', seg_map_path='annotations/val'),
                        metainfo=dict(hierarchy=path))


def test_trains_one_iteration(tmp_path, mmseg_scope):
    path = write_custom(str(tmp_path))
    log_vars = train_one_iteration(dataset_cfg(tmp_path, path), path)
    assert any('triplet' in key for key in log_vars), sorted(log_vars)


def test_template_writes_the_hierarchy_once():
    cfg = Config.fromfile(CUSTOM_CONFIG)
    hierarchy = build_hierarchy(cfg.hierarchy)
    assert build_hierarchy(cfg.model.decode_head.hierarchy) == hierarchy
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert build_hierarchy(cfg[loader].dataset.metainfo.hierarchy) == hierarchy
        assert 'classes' not in cfg[loader].dataset.metainfo
    assert cfg.model.decode_head.num_classes is None
    assert hierarchy == build_hierarchy('toy_shapes').__class__(
        **dict(build_hierarchy('toy_shapes').to_dict(), name='my_hierarchy'))
    check_hierarchy_fits_data(cfg)
    cfg.model.decode_head.hierarchy = 'cityscapes'  # edited in one place only: caught
    with pytest.raises(HierarchyError, match='19 leaf classes but train_dataloader'):
        check_hierarchy_fits_data(cfg)
    regrouped = dict(cfg.hierarchy, groups=[{'background': ['background'],
                                             'plain': ['warm plain', 'cool plain'],
                                             'textured': ['warm striped', 'cool striped',
                                                          'cool dotted']}])
    cfg.model.decode_head.hierarchy = regrouped  # same leaves, other groups: caught too
    with pytest.raises(HierarchyError, match="decode_head has the hierarchy 'my_hierarchy'.*"
                       "the metric reads the data set's"):
        check_hierarchy_fits_data(cfg)

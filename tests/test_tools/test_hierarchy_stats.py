"""tools/hierarchy_stats.py: per-node pixel shares, leaves that never occur, bad labels."""
import os
import os.path as osp
import re

import numpy as np
import pytest
from PIL import Image

from hieraseg.hierarchy import build_hierarchy
from hieraseg.utils.class_weights import balanced_class_weights
from hieraseg.utils.hierarchy_stats import count_labels, format_tree, level_counts
from .conftest import call_tool

CUSTOM_CONFIG = 'configs/custom/hssn-fcn_r18-w16_custom.py'
HIERARCHY = dict(name='street', level_names=['class', 'category'],
                 classes=['background', 'road', 'car', 'truck'],
                 groups=[{'background': ['background'], 'flat': ['road'],
                          'vehicle': ['car', 'truck']}])


def save_labels(path, labels):
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(np.asarray(labels, dtype=np.uint8)).save(path)
    return str(path)


def test_count_labels_as_mmseg_loads_them(tmp_path):
    path = save_labels(tmp_path / 'a.png', [[0, 1, 1, 255], [3, 3, 3, 0]])
    counts, ignored = count_labels(path, 4)
    assert counts.tolist() == [2, 2, 0, 3] and ignored == 1
    counts, ignored = count_labels(path, 4, reduce_zero_label=True)
    assert counts.tolist() == [2, 0, 3, 0] and ignored == 3
    counts, _ = count_labels(path, 4, label_map={1: 2, 3: 1})
    assert counts.tolist() == [2, 3, 2, 0]
    with pytest.raises(ValueError, match=r'a.png: label value 3 is outside the 3 classes'):
        count_labels(path, 3)


def test_tree_sums_up_the_levels_and_flags_missing_leaves():
    hierarchy = build_hierarchy(HIERARCHY)
    leaf_counts = np.array([50, 30, 20, 0])
    assert [c.tolist() for c in level_counts(hierarchy, leaf_counts)] == \
        [[50, 30, 20, 0], [50, 30, 20]]
    tree, never = format_tree(hierarchy, leaf_counts)
    assert never == ['truck']
    lines = tree.splitlines()
    assert lines[0].startswith('background') and '50.00%' in lines[0]
    assert lines[-1].startswith('└── truck') and 'never occurs' in lines[-1]
    assert sum('never occurs' in line for line in lines) == 1
    vehicle = next(line for line in lines if line.startswith('vehicle'))
    assert '20.00%' in vehicle and '[category]' in vehicle


def write_data(root, truck=False, bad=None):
    rng = np.random.default_rng(0)
    for i in range(3):
        os.makedirs(osp.join(root, 'img'), exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(
            osp.join(root, 'img', f'{i}.jpg'))
        labels = rng.integers(0, 3 + truck, (8, 8))
        if bad is not None and i == 2:
            labels[1, 1] = bad
        save_labels(osp.join(root, 'ann', f'{i}.png'), labels)
    import yaml
    with open(osp.join(root, 'h.yaml'), 'w') as f:
        yaml.safe_dump(HIERARCHY, f, sort_keys=False)


def stats_args(root):
    hierarchy = osp.join(root, 'h.yaml')
    return ['tools/hierarchy_stats.py', CUSTOM_CONFIG, '--cfg-options',
            f'train_dataloader.dataset.data_root={root}',
            'train_dataloader.dataset.data_prefix.img_path=img',
            'train_dataloader.dataset.data_prefix.seg_map_path=ann',
            'train_dataloader.dataset.img_suffix=.jpg',
            'train_dataloader.dataset.seg_map_suffix=.png',
            f'train_dataloader.dataset.metainfo.hierarchy={hierarchy}',
            f'model.decode_head.hierarchy={hierarchy}']


def test_tool_on_a_custom_data_set(tmp_path, monkeypatch, capsys):
    """The tool's main() in this process (no interpreter start-up per run)."""
    root = str(tmp_path / 'data')
    write_data(root)
    call_tool(monkeypatch, *stats_args(root), '--class-weight')
    out = capsys.readouterr().out
    assert "hierarchy 'street' (4 -> 3" in out and '3 label files, 192 labelled pixels' in out
    assert "WARNING: 1 of 4 leaves never occur in the train split: ['truck']" in out
    counts = [int(re.search(r'([\d,]+) px', line).group(1).replace(',', ''))
              for line in out.splitlines() if '[class]' in line]  # in label order here
    assert out.rstrip().endswith(f'class_weight={balanced_class_weights(counts)}')

    write_data(root, truck=True, bad=7)
    with pytest.raises(Exception, match='2.png: label value 7 is outside the 4 classes'):
        call_tool(monkeypatch, *stats_args(root))

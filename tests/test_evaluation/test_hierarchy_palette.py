"""The hierarchy-aware palette: distinct leaves, siblings in their parent's hue family, a
parent in its family's colour; used by a data set that gives no palette of its own."""
import colorsys

import numpy as np
import pytest

from hieraseg.hierarchy import BUILTIN_HIERARCHIES, build_hierarchy
from hieraseg.visualization.palette import hierarchy_palette, palette_layout


def wide_hierarchy():
    """200 leaves in 25 groups of 8 in 5 families (bigger than Mapillary's 124)."""
    leaves = [f'leaf {i}' for i in range(200)]
    groups = {f'group {g}': leaves[8 * g:8 * g + 8] for g in range(25)}
    families = {f'family {f}': [f'group {g}' for g in range(5 * f, 5 * f + 5)]
                for f in range(5)}
    return build_hierarchy(dict(classes=leaves, groups=[groups, families]))


HIERARCHIES = sorted(BUILTIN_HIERARCHIES) + ['wide']


def get(name):
    return wide_hierarchy() if name == 'wide' else build_hierarchy(name)


def hue(rgb):
    return colorsys.rgb_to_hsv(*(c / 255 for c in rgb))


@pytest.mark.parametrize('name', HIERARCHIES)
def test_no_two_leaves_share_a_colour(name):
    hierarchy = get(name)
    leaves = np.asarray(hierarchy_palette(hierarchy)[0], dtype=float)
    assert leaves.shape == (hierarchy.num_leaves, 3)
    assert ((leaves >= 0) & (leaves <= 255)).all()
    distance = np.sqrt(((leaves[:, None] - leaves[None]) ** 2).sum(-1))
    np.fill_diagonal(distance, np.inf)
    assert distance.min() >= (10 if hierarchy.num_leaves > 100 else 40), name


@pytest.mark.parametrize('name', HIERARCHIES)
def test_siblings_share_the_parent_hue_family(name):
    hierarchy = get(name)
    colours, sectors = palette_layout(hierarchy)
    for level in range(1, hierarchy.num_levels):
        for child, parent in enumerate(hierarchy.parents[level - 1]):
            start, width = sectors[level][parent]
            c_start, c_width = sectors[level - 1][child]
            if width == 0:  # a grey family: greys all the way down
                h, s, v = hue(colours[level - 1][child])
                assert s == 0 and c_width == 0
                continue
            # the child's sector lies inside the parent's; its colour's hue in the middle
            assert start <= c_start and c_start + c_width <= start + width + 1e-9
            h, s, v = hue(colours[level - 1][child])
            siblings = hierarchy.parents[level - 1].count(parent)
            if siblings == 1:  # the family is this one node: the parent's colour
                assert colours[level - 1][child] == colours[level][parent]
            elif s > 0.2:
                assert min(abs(h - (c_start + c_width / 2)) % 1,
                           1 - abs(h - (c_start + c_width / 2)) % 1) < 0.01
    # a top node's colour is the middle of its sector: its family's colour
    top = hierarchy.num_levels - 1
    for node, (start, width) in enumerate(sectors[top]):
        if width:
            h, _, _ = hue(colours[top][node])
            assert abs(h - (start + width / 2)) < 0.01


def test_background_is_grey_and_families_differ():
    hierarchy = build_hierarchy('toy_shapes')
    texture, colour = hierarchy_palette(hierarchy)
    assert texture[0] == colour[0] and len(set(texture[0])) == 1  # background: one grey
    warm, cool = hue(colour[1])[0], hue(colour[2])[0]
    assert min(abs(warm - cool), 1 - abs(warm - cool)) > 0.2


def test_a_data_set_without_a_palette_gets_the_hierarchy_palette(tmp_path):
    from mmengine.registry import init_default_scope

    from hieraseg.datasets import HieraSegDataset, generate_toy_shapes_deep
    init_default_scope('mmseg')
    root = str(tmp_path / 'deep')
    generate_toy_shapes_deep(root, num_train=2, num_val=1, size=32)
    dataset = HieraSegDataset(data_root=root, img_suffix='.jpg', seg_map_suffix='.png',
                              data_prefix=dict(img_path='images/train',
                                               seg_map_path='labels/train'),
                              metainfo=dict(hierarchy=f'{root}/hierarchy.yaml'))
    hierarchy = build_hierarchy(f'{root}/hierarchy.yaml')
    assert [list(c) for c in dataset.metainfo['palette']] == hierarchy_palette(hierarchy)[0]
    # a data set's own palette stays
    own = HieraSegDataset(data_root=root, img_suffix='.jpg', seg_map_suffix='.png',
                          data_prefix=dict(img_path='images/train',
                                           seg_map_path='labels/train'),
                          metainfo=dict(hierarchy=f'{root}/hierarchy.yaml',
                                        palette=[[i, i, i] for i in range(8)]))
    assert [list(c) for c in own.metainfo['palette']] == [[i, i, i] for i in range(8)]

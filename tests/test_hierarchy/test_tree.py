import pytest
import torch

from hieraseg.hierarchy import (BUILTIN_HIERARCHIES, ClassHierarchy, HierarchyError,
                                build_hierarchy)


def person_part():
    return build_hierarchy('pascal_person_part')


def test_layout_and_sizes():
    h = person_part()
    assert h.level_sizes == (7, 3, 2)
    assert h.level_offsets == (0, 7, 10)
    assert h.num_nodes == 12 and h.num_levels == 3
    assert h.height == 3  # two top nodes hang from an implicit root
    assert h.level_slice(1) == slice(7, 10)
    assert build_hierarchy('cityscapes').height == 2


def test_paths_of_leaves():
    h = person_part()
    # head -> upper body -> person; lower leg -> lower body -> person; background alone.
    assert h.leaf_to_level[:, 1].tolist() == [1, 1, 1]
    assert h.leaf_to_level[:, 6].tolist() == [6, 2, 1]
    assert h.leaf_to_level[:, 0].tolist() == [0, 0, 0]
    assert h.leaf_to_node[:, 6].tolist() == [6, 9, 11]


def test_children_grouped_by_parent():
    h = person_part()
    # level 0 parents: background -> 0; head, torso, upper arm, lower arm -> 1 (upper body);
    # upper leg, lower leg -> 2 (lower body)
    assert h.children_order[0].tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert h.num_children[0].tolist() == [1, 4, 2]
    assert h.children_order[1].tolist() == [0, 1, 2]
    assert h.num_children[1].tolist() == [1, 2]
    lip = build_hierarchy('lip')
    for order, counts, links in zip(lip.children_order, lip.num_children, lip.parents):
        grouped_parents = [links[i] for i in order.tolist()]
        assert grouped_parents == sorted(links)
        assert counts.tolist() == [links.count(p) for p in range(len(counts))]
    assert lip.children_order[0].tolist() != list(range(20))  # LIP's leaves are interleaved


def test_leaf_distance():
    h = person_part()
    assert h.leaf_distance[1, 1] == 0
    assert h.leaf_distance[1, 2] == 2  # siblings under upper body
    assert h.leaf_distance[1, 5] == 4  # meet at person
    assert h.leaf_distance[0, 5] == 6  # meet at the implicit root
    assert torch.equal(h.leaf_distance, h.leaf_distance.T)


def test_labels_at_level_keeps_ignore_and_input():
    h = person_part()
    labels = torch.tensor([[0, 1, 255], [5, 6, 4]])
    before = labels.clone()
    assert h.labels_at_level(labels, 1).tolist() == [[0, 1, 255], [2, 2, 1]]
    assert h.labels_at_level(labels, 2).tolist() == [[0, 1, 255], [1, 1, 1]]
    assert torch.equal(labels, before)
    with pytest.raises(HierarchyError, match='label 7 is outside the 7 leaf classes'):
        h.labels_at_level(torch.tensor([7]), 1)


@pytest.mark.parametrize('classes,parents,message', [
    ([['a', 'b'], ['x']], [[0, 1]], r'parent of .b. \(level 1\) is 1, outside the range 0..0 '
     'of level 2'),
    ([['a', 'b'], ['x', 'y']], [[0, 0]], r"level 2 nodes \['y'\] have no children in level 1"),
    ([['a', 'b'], []], [[0, 0]], 'level 2 is empty'),
    ([['a', 'b'], ['x']], [], 'need 1 parent lists'),
    ([['a', 'b'], ['x']], [[0]], r'parents\[0\] has 1 entries but level 1 has 2'),
    ([['a', 'a'], ['x']], [[0, 0]], "names \\['a'\\] more than once"),
])
def test_validation_errors(classes, parents, message):
    with pytest.raises(HierarchyError, match=message):
        ClassHierarchy(classes, parents)


def test_build_from_dict_and_errors():
    h = build_hierarchy(dict(classes=[['a', 'b', 'c'], ['x', 'y']], parents=[[0, 1, 1]]))
    assert h.level_sizes == (3, 2) and h.level_names == ('level1', 'level2')
    assert build_hierarchy(h) is h
    assert build_hierarchy('lip') is build_hierarchy('lip')  # built once
    with pytest.raises(HierarchyError, match='unknown built-in hierarchy'):
        build_hierarchy('cityscape')
    with pytest.raises(HierarchyError, match='missing'):
        build_hierarchy(dict(classes=[['a']]))
    with pytest.raises(HierarchyError, match='has 3 leaf classes but the data set has 4'):
        h.check_num_classes(4)
    with pytest.raises(HierarchyError, match='5 nodes'):
        h.check_num_nodes(3)


def test_builtins_match_mmseg_classes():
    from mmseg.datasets import CityscapesDataset, LIPDataset, MapillaryDataset_v2
    assert build_hierarchy('cityscapes').classes[0] == CityscapesDataset.METAINFO['classes']
    assert build_hierarchy('lip').classes[0] == LIPDataset.METAINFO['classes']
    mapillary = build_hierarchy('mapillary_v2')
    assert mapillary.classes[0] == MapillaryDataset_v2.METAINFO['classes']
    assert mapillary.level_sizes == (124, 16, 4)
    groups = dict(zip(mapillary.classes[1], range(16)))
    members = lambda g: [c for c, p in zip(mapillary.classes[0], mapillary.parents[0])  # noqa
                         if p == groups[g]]
    assert len(members('marking')) == 20 and len(members('marking-only')) == 4
    assert len(members('traffic sign')) == 8 and 'Traffic Sign Frame' in members('support')
    assert len(members('street furniture')) == 16


def test_all_builtins_build():
    expected = {'cityscapes': (19, 7), 'pascal_person_part': (7, 3, 2), 'lip': (20, 3, 2),
                'mapillary_v2': (124, 16, 4), 'toy_shapes': (6, 3)}
    assert {n: build_hierarchy(n).level_sizes for n in BUILTIN_HIERARCHIES} == expected

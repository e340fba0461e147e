"""Hierarchies from JSON / YAML / per-level CSV files and the grouped dict form."""
import json
import os
import time

import pytest

from hieraseg.hierarchy import ClassHierarchy, HierarchyError, build_hierarchy

LEAVES = ['background', 'head', 'torso', 'upper arm', 'lower arm', 'upper leg', 'lower leg']
EXPECTED = ClassHierarchy(
    [LEAVES, ['background', 'upper body', 'lower body'], ['background', 'person']],
    [[0, 1, 1, 1, 1, 2, 2], [0, 1, 1]],
    level_names=['part', 'body half', 'person'], name='ppp')
GROUPS = [
    {'background': ['background'], 'upper body': ['head', 'torso', 'upper arm', 'lower arm'],
     'lower body': ['upper leg', 'lower leg']},
    {'background': ['background'], 'person': ['upper body', 'lower body']},
]


def write(path, text):
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


def csv_levels(tmp_path):
    group_of = {leaf: group for group, members in GROUPS[0].items() for leaf in members}
    first = write(tmp_path / 'ppp.csv', 'part,body half\n'
                  + ''.join(f'{leaf},{group_of[leaf]}\n' for leaf in LEAVES))
    second = write(tmp_path / 'ppp_top.csv',
                   'body half,person\nbackground,background\nupper body,person\n'
                   'lower body,person\n')
    return first, second


def test_json_parents_form(tmp_path):
    path = write(tmp_path / 'h.json', json.dumps(EXPECTED.to_dict()))
    assert build_hierarchy(path) == EXPECTED


def test_json_and_yaml_groups_form(tmp_path):
    spec = dict(name='ppp', level_names=['part', 'body half', 'person'], classes=LEAVES,
                groups=GROUPS)
    assert build_hierarchy(write(tmp_path / 'h.json', json.dumps(spec))) == EXPECTED
    import yaml
    assert build_hierarchy(write(tmp_path / 'h.yaml', yaml.safe_dump(spec, sort_keys=False))) \
        == EXPECTED
    assert build_hierarchy(spec) == EXPECTED  # the same in a config dict


def test_yaml_name_defaults_to_file_stem(tmp_path):
    import yaml
    path = write(tmp_path / 'my_tree.yml', yaml.safe_dump(
        dict(classes=['a', 'b'], groups=[{'ab': ['a', 'b']}])))
    hierarchy = build_hierarchy(path)
    assert hierarchy.name == 'my_tree' and hierarchy.classes == (('a', 'b'), ('ab',))


def test_csv_per_level(tmp_path):
    first, second = csv_levels(tmp_path)
    assert build_hierarchy([first, second]) == EXPECTED  # name: the first file's stem
    two_levels = build_hierarchy(first)
    assert two_levels.level_sizes == (7, 3) and two_levels.level_names == ('part', 'body half')


def test_csv_generic_header_and_parent_order(tmp_path):
    path = write(tmp_path / 'h.csv', 'child,parent\ncar,vehicle\nroad,flat\ntruck,vehicle\n')
    hierarchy = build_hierarchy(path)
    assert hierarchy.classes == (('car', 'road', 'truck'), ('vehicle', 'flat'))
    assert hierarchy.parents == ((0, 1, 0),)
    assert hierarchy.level_names == ('level1', 'level2')


def test_file_is_read_again_when_it_changes(tmp_path):
    path = write(tmp_path / 'h.csv', 'child,parent\na,x\nb,x\n')
    assert build_hierarchy(path).classes[1] == ('x',)
    time.sleep(0.01)
    write(path, 'child,parent\na,x\nb,y\n')
    os.utime(path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    assert build_hierarchy(path).classes[1] == ('x', 'y')


@pytest.mark.parametrize('text, message', [
    ('child,parent\na,x\nb,x\na,y\n', r"line 4: child 'a' is listed twice \(first on line 2"),
    ('child,parent\na,x\nb\n', r'line 3: expected two non-empty columns'),
    ('child,parent\n', 'has a header but no child,parent rows'),
])
def test_csv_errors_name_file_and_line(tmp_path, text, message):
    path = write(tmp_path / 'bad.csv', text)
    with pytest.raises(HierarchyError, match=message) as info:
        build_hierarchy(path)
    assert 'bad.csv' in str(info.value)


def test_csv_cycle_across_levels(tmp_path):
    first = write(tmp_path / 'l1.csv', 'child,parent\na,b\nc,d\n')
    second = write(tmp_path / 'l2.csv', 'child,parent\nb,a\nd,d\n')
    with pytest.raises(HierarchyError, match=r'cycle: (a -> b -> a|b -> a -> b).*l[12]\.csv'):
        build_hierarchy([first, second])


def test_csv_same_name_up_a_level_is_not_a_cycle(tmp_path):
    first = write(tmp_path / 'l1.csv', 'child,parent\nbackground,background\nhead,person\n')
    second = write(tmp_path / 'l2.csv', 'child,parent\nbackground,background\nperson,all\n')
    assert build_hierarchy([first, second]).level_sizes == (2, 2, 2)


def test_csv_without_header(tmp_path):
    first = write(tmp_path / 'l1.csv', 'child,parent\na,x\nb,y\n')
    second = write(tmp_path / 'l2.csv', 'x,top\ny,top\n')
    with pytest.raises(HierarchyError, match=r"l2.csv, line 1: 'x,top' looks like a "
                       r"child,parent row"):
        build_hierarchy([first, second])


def test_csv_levels_must_match(tmp_path):
    first = write(tmp_path / 'l1.csv', 'child,parent\na,x\nb,y\n')
    missing = write(tmp_path / 'l2.csv', 'child,parent\nx,top\n')
    with pytest.raises(HierarchyError,
                       match=r"l2.csv: nodes \['y'\] of level 2 have no parent row"):
        build_hierarchy([first, missing])
    unknown = write(tmp_path / 'l3.csv', 'child,parent\nx,top\ny,top\nz,top\n')
    with pytest.raises(HierarchyError,
                       match=r"l3.csv, line 4: child 'z' is not a node of level 2"):
        build_hierarchy([first, unknown])
    renamed = write(tmp_path / 'l4.csv', 'category,group\nx,top\ny,top\n')
    first_named = write(tmp_path / 'l0.csv', 'class,kind\na,x\nb,y\n')
    with pytest.raises(HierarchyError,
                       match="l4.csv, line 1: its header names the child level 'category'"):
        build_hierarchy([first_named, renamed])


def test_groups_errors(tmp_path):
    twice = dict(classes=['a', 'b'], groups=[{'x': ['a', 'b'], 'y': ['a']}])
    with pytest.raises(HierarchyError, match=r"'a' is listed twice.*under 'x' and 'y'"):
        build_hierarchy(twice)
    none = dict(classes=['a', 'b'], groups=[{'x': ['a']}])
    with pytest.raises(HierarchyError, match=r"\['b'\] are in no group"):
        build_hierarchy(none)
    cycle = dict(classes=['a', 'b'], groups=[{'b': ['a'], 'x': ['b']}, {'a': ['b', 'x']}])
    with pytest.raises(HierarchyError, match='cycle'):
        build_hierarchy(cycle)
    path = write(tmp_path / 'h.json', json.dumps(dict(classes=['a'], groups=[{'x': ['q']}])))
    with pytest.raises(HierarchyError, match=(r"h.json, line 1: groups\[0\]\['x'\] lists "
                                              r"'q', which is not a node of level 1")):
        build_hierarchy(path)


def test_file_errors_are_validated_like_the_dict_form(tmp_path):
    path = write(tmp_path / 'h.json', json.dumps(dict(classes=[['a', 'b'], ['x']],
                                                      parents=[[0, 3]]), indent=None)
                 .replace('"parents"', '\n"parents"'))
    with pytest.raises(HierarchyError, match=(r"h.json, line 2: class hierarchy 'h': "
                                              r"parent of 'b' \(level 1\) is 3")):
        build_hierarchy(path)
    path = write(tmp_path / 'k.yaml', 'classes: [a]\nparent: [[0]]\n')
    with pytest.raises(HierarchyError, match=r'k.yaml: a hierarchy takes .*unknown'):
        build_hierarchy(path)
    path = write(tmp_path / 'broken.json', '{"classes": [')
    with pytest.raises(HierarchyError, match='broken.json: not valid JSON'):
        build_hierarchy(path)
    with pytest.raises(FileNotFoundError, match='nowhere.yaml'):
        build_hierarchy(str(tmp_path / 'nowhere.yaml'))

"""Hierarchy errors name the file and line, the level as the metric prints it ("level 1
(species)", counted from 1, finest first) and the closest name to a misspelt one."""
import json

import pytest

from hieraseg.hierarchy import ClassHierarchy, HierarchyError, build_hierarchy
from hieraseg.hierarchy.names import did_you_mean, level_label

FOREST = """\
name: forest
level_names: [species, genus, kind]
classes: [background, pine, spruce, oak, birch]
groups:
  - background: [background]
    conifer: [pine, spruce]
    broadleaf: [oak, birch]
  - background: [background]
    tree: [conifer, broadleaf]
"""


def write(path, text):
    path.write_text(text)
    return str(path)


def error_of(spec) -> str:
    with pytest.raises(HierarchyError) as info:
        build_hierarchy(spec)
    return str(info.value)


def test_the_example_builds(tmp_path):
    forest = build_hierarchy(write(tmp_path / 'forest.yaml', FOREST))
    assert forest.level_sizes == (5, 3, 2)
    assert forest.level_label(0) == 'level 1 (species)'


def test_yaml_misspelt_member_names_line_level_and_closest_name(tmp_path):
    path = write(tmp_path / 'forest.yaml', FOREST.replace('[pine, spruce]', '[pnie, spruce]'))
    assert error_of(path) == (
        f"{path}, line 6: groups[0]['conifer'] lists 'pnie', which is not a node of level 1 "
        "(species) (did you mean 'pine'?)")


def test_yaml_member_of_no_group_names_both_levels(tmp_path):
    path = write(tmp_path / 'forest.yaml', FOREST.replace('tree: [conifer, broadleaf]',
                                                          'tree: [conifer]'))
    assert error_of(path) == (
        f"{path}, line 8: level 2 (genus) nodes ['broadleaf'] are in no group of groups[1] "
        "(the level 3 (kind) nodes)")


def test_yaml_key_written_twice_is_an_error_not_a_silent_overwrite(tmp_path):
    path = write(tmp_path / 'forest.yaml', FOREST.replace(
        '    broadleaf: [oak, birch]\n', '    broadleaf: [oak]\n    broadleaf: [birch]\n'))
    assert error_of(path) == (f"{path}, line 8: 'broadleaf' is written twice in the same "
                              "mapping (first on line 7); a YAML reader would keep only the "
                              "second")


def test_yaml_parents_form_points_at_the_bad_parent(tmp_path):
    path = write(tmp_path / 'two.yml', 'level_names: [class, category]\n'
                 'classes:\n  - [a, b, c]\n  - [x, y]\n'
                 'parents:\n  - [0, 1, 7]\n')
    assert error_of(path) == (
        f"{path}, line 6: class hierarchy 'two': parent of 'c' (level 1 (class)) is 7, outside "
        "the range 0..1 of level 2 (category)")


def test_json_gives_the_line_too(tmp_path):
    spec = dict(level_names=['species', 'genus'], classes=['pine', 'oak'],
                groups=[{'conifer': ['pine'], 'broadleaf': ['oka']}])
    text = json.dumps(spec, indent=1)
    line = text.splitlines().index('    "oka"') + 1
    path = write(tmp_path / 'h.json', text)
    assert error_of(path).startswith(
        f"{path}, line {line}: groups[0]['broadleaf'] lists 'oka', which is not a node of level 1 "
        "(species) (did you mean 'oak'?)")


def test_leaf_listed_twice(tmp_path):
    path = write(tmp_path / 'h.yaml', 'classes:\n  - pine\n  - oak\n  - pine\n'
                 'groups:\n  - tree: [pine, oak]\n')
    assert error_of(path) == (f"{path}, line 4: leaf 'pine' is listed twice in \"classes\" "
                              "(items 1 and 3)")


def test_csv_names_row_level_and_closest_name(tmp_path):
    first = write(tmp_path / 'species.csv', 'species,genus\nbackground,background\n'
                  'pine,conifer\nspruce,conifer\noak,broadleaf\n')
    second = write(tmp_path / 'genus.csv', 'genus,kind\nbackground,background\n'
                   'conifer,tree\nbroadleef,tree\n')
    message = error_of([first, second])
    assert message.startswith(
        f"{second}, line 4: child 'broadleef' is not a node of level 2 (genus) (did you mean "
        f"'broadleaf'?); its nodes (from the parent column of {first}):")


def test_dict_form_levels_counted_from_one_with_names():
    with pytest.raises(HierarchyError, match=r"level 2 \(colour\) is empty"):
        ClassHierarchy([['a'], []], [[0]], level_names=['texture', 'colour'])
    with pytest.raises(HierarchyError, match=r"groups\[0\]\['x'\] lists 'bb', which is not a "
                       r"node of level 1 \(did you mean 'b'\?\)"):
        build_hierarchy(dict(classes=['a', 'b'], groups=[{'x': ['a', 'bb']}]))


def test_helpers():
    assert level_label(0, ['texture', 'colour']) == 'level 1 (texture)'
    assert level_label(1, None) == 'level 2' and level_label(1, ['a', 'level2']) == 'level 2'
    assert did_you_mean('pnie', ['oak', 'pine']) == " (did you mean 'pine'?)"
    assert did_you_mean('zzz', ['oak', 'pine']) == ''


def test_missing_file_states_the_path_rule(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"'nowhere.yaml' does not exist \(from the "
                       r"current folder .*config's folder first, then in the current folder"):
        build_hierarchy('nowhere.yaml')

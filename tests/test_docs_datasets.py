"""docs/datasets.md lists every built-in hierarchy exactly as hieraseg builds it, and names
every converter that exists."""
import glob
import os.path as osp

import pytest

from hieraseg.hierarchy import build_hierarchy

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DOC = osp.join(REPO, 'docs', 'datasets.md')


def hierarchy_tables(name: str) -> str:
    """The markdown tables docs/datasets.md shows for a built-in hierarchy."""
    h = build_hierarchy(name)
    lines = []
    for level in range(1, h.num_levels):
        coarse, fine = h.level_names[level], h.level_names[level - 1]
        lines += [f'{coarse} ({h.level_sizes[level]}), each with its {fine} members:', '',
                  f'| id | {coarse} | {fine} (ids) |', '| --- | --- | --- |']
        for node, node_name in enumerate(h.classes[level]):
            members = [f'{h.classes[level - 1][i]} ({i})'
                       for i, parent in enumerate(h.parents[level - 1]) if parent == node]
            lines.append(f'| {node} | {node_name} | {", ".join(members)} |')
        lines.append('')
    return '\n'.join(lines)


@pytest.mark.parametrize('name', ['cityscapes', 'pascal_person_part', 'lip', 'mapillary_v2'])
def test_doc_shows_the_hierarchy(name):
    with open(DOC) as f:
        doc = f.read()
    assert hierarchy_tables(name) in doc
    h = build_hierarchy(name)
    sizes = ' -> '.join(map(str, h.level_sizes))
    assert f"`'{name}'`, {sizes} (levels: {', '.join(h.level_names)})" in doc


def test_doc_names_every_converter():
    with open(DOC) as f:
        doc = f.read()
    scripts = glob.glob(osp.join(REPO, 'tools', 'dataset_converters', '*.py'))
    assert len(scripts) == 9
    for script in scripts:
        assert f'tools/dataset_converters/{osp.basename(script)}' in doc

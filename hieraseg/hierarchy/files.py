"""Class hierarchies read from files: JSON, YAML, or one two-column CSV per level.

JSON / YAML hold the dict form that :func:`build_hierarchy` takes (``classes``, ``parents``,
optional ``level_names`` and ``name``), or the same with ``groups`` in place of ``parents``:
per coarser level, an ordered mapping ``group name -> names of its members in the level
below`` (the order of the groups is the order of that level's nodes)::

    # my_hierarchy.yaml
    name: street
    level_names: [class, category]
    classes: [road, sidewalk, car, truck, person]      # leaf order = label ids
    groups:
      - flat: [road, sidewalk]
        vehicle: [car, truck]
        human: [person]

CSV: one file per coarser level, finest first (``hierarchy=['l1.csv', 'l2.csv']``, or one
path for two levels). Each file's first row is a header naming the two levels
(``class,category``; a literal ``child,parent`` header leaves the level names to their
defaults), then one ``child,parent`` row per node of the finer level. The rows of the first
file are the leaves in label-id order; a coarser level's nodes are ordered by their first
appearance as a parent; every later file must list exactly the nodes of the level below it.

Names are node identities across levels: a name may repeat one level up only as its own
parent (``background,background``). A child listed twice, and a cycle (``a`` under ``b`` at
one level, ``b`` under ``a`` at another) are errors naming the file and line.
"""
import csv
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from .tree import ClassHierarchy, HierarchyError

HIERARCHY_FILE_SUFFIXES = ('.json', '.yaml', '.yml', '.csv')


def is_hierarchy_file(spec) -> bool:
    """Whether ``spec`` names a hierarchy file (or a list of CSV files) by its suffix."""
    if isinstance(spec, str):
        return spec.lower().endswith(HIERARCHY_FILE_SUFFIXES)
    return (isinstance(spec, (list, tuple)) and len(spec) > 0
            and all(isinstance(p, str) and p.lower().endswith('.csv') for p in spec))


def _check_no_cycle(edges: Sequence[Tuple[str, str, str]]):
    """Raises a HierarchyError if the child -> parent name graph has a cycle.

    ``edges`` are ``(child, parent, where)``; self-edges (a node continuing one level up
    under its own name) are not cycles.
    """
    graph: Dict[str, List[Tuple[str, str]]] = {}
    for child, parent, where in edges:
        if child != parent:
            graph.setdefault(child, []).append((parent, where))
    state: Dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: List[str]):
        state[node] = 1
        for parent, where in graph.get(node, ()):
            if state.get(parent) == 1:
                loop = path[path.index(parent):] + [parent]
                raise HierarchyError(f'the hierarchy has a cycle: {" -> ".join(loop)} '
                                     f'(closed by {where})')
            if state.get(parent) is None:
                visit(parent, path + [parent])
        state[node] = 2

    for node in list(graph):
        if state.get(node) is None:
            visit(node, [node])


def hierarchy_from_groups(classes: Sequence[str], groups: Sequence[Dict[str, Sequence[str]]],
                          level_names: Optional[Sequence[str]] = None, name: str = 'custom',
                          where: str = 'the hierarchy') -> ClassHierarchy:
    """A :class:`ClassHierarchy` from the leaf names and, per coarser level, an ordered
    mapping ``group -> member names of the level below``.

    Raises:
        HierarchyError: a member in two groups or in none, a member that is not a node of
            the level below, a cycle between names, or anything :class:`ClassHierarchy`
            rejects.
    """
    if isinstance(classes, str) or not isinstance(classes, Sequence):
        raise HierarchyError(f'{where}: "classes" must be a list of leaf names, '
                             f'got {classes!r}')
    if isinstance(groups, dict) or not isinstance(groups, Sequence):
        raise HierarchyError(f'{where}: "groups" must be a list with one mapping per coarser '
                             f'level, got {type(groups).__name__}')
    if not all(isinstance(c, str) for c in classes):
        raise HierarchyError(f'{where}: with "groups", "classes" is the list of leaf names '
                             f'(the coarser levels are the group names), got {classes!r}')
    levels = [list(classes)]
    parents, edges = [], []
    for index, grouping in enumerate(groups):
        if not isinstance(grouping, dict):
            raise HierarchyError(f'{where}: groups[{index}] must map group names to member '
                                 f'lists, got {type(grouping).__name__}')
        below = levels[-1]
        parent_of: Dict[str, int] = {}
        for group_index, (group, members) in enumerate(grouping.items()):
            if isinstance(members, str) or not isinstance(members, Sequence):
                raise HierarchyError(f'{where}: groups[{index}][{group!r}] must be a list of '
                                     f'names, got {members!r}')
            for member in members:
                member = str(member)
                if member not in below:
                    raise HierarchyError(f'{where}: groups[{index}][{group!r}] lists '
                                         f'{member!r}, which is not a node of level {index}')
                if member in parent_of:
                    first = list(grouping)[parent_of[member]]
                    raise HierarchyError(f'{where}: {member!r} is listed twice in groups[{index}]'
                                         f' (under {first!r} and {group!r})')
                parent_of[member] = group_index
                edges.append((member, str(group), f'{where}, groups[{index}][{group!r}]'))
        missing = [node for node in below if node not in parent_of]
        if missing:
            raise HierarchyError(f'{where}: level-{index} nodes {missing} are in no group of '
                                 f'groups[{index}]')
        levels.append([str(g) for g in grouping])
        parents.append([parent_of[node] for node in below])
    _check_no_cycle(edges)
    return ClassHierarchy(levels, parents, level_names=level_names, name=name)


def hierarchy_from_dict(spec: Dict, where: str = 'the hierarchy') -> ClassHierarchy:
    """The dict form (``classes`` + ``parents`` or ``groups``), validated."""
    if not isinstance(spec, dict):
        raise HierarchyError(f'{where}: expected a mapping with "classes" and "parents" (or '
                             f'"groups"), got {type(spec).__name__}')
    known = {'classes', 'parents', 'groups', 'level_names', 'name'}
    unknown = set(spec) - known
    has_links = [k for k in ('parents', 'groups') if k in spec]
    missing = [] if 'classes' in spec else ['classes']
    if not has_links:
        missing.append('parents (or groups)')
    if unknown or missing or len(has_links) > 1:
        raise HierarchyError(
            f'{where}: a hierarchy takes "classes" and either "parents" or "groups", plus '
            f'optional "level_names" and "name"; missing {missing}, unknown '
            f'{sorted(unknown)}' + ('; give "parents" or "groups", not both'
                                    if len(has_links) > 1 else ''))
    name = str(spec.get('name', 'custom'))
    if 'groups' in spec:
        return hierarchy_from_groups(spec['classes'], spec['groups'], spec.get('level_names'),
                                     name, where)
    return ClassHierarchy(spec['classes'], spec['parents'], spec.get('level_names'), name)


def _read_csv_level(path: str) -> Tuple[Tuple[str, str], List[Tuple[str, str, int]]]:
    """The header and the ``(child, parent, line)`` rows of one per-level CSV file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'hierarchy file {path!r} does not exist')
    with open(path, newline='', encoding='utf-8-sig') as f:
        rows = [(line, [c.strip() for c in row]) for line, row in enumerate(csv.reader(f), 1)]
    rows = [(line, row) for line, row in rows if any(row)]
    if not rows:
        raise HierarchyError(f'{path}: empty; expected a "child,parent" header and rows')
    for line, row in rows:
        if len(row) != 2 or not all(row):
            raise HierarchyError(f'{path}, line {line}: expected two non-empty columns '
                                 f'child,parent, got {row}')
    (_, header), body = rows[0], rows[1:]
    if not body:
        raise HierarchyError(f'{path}: has a header but no child,parent rows')
    return (header[0], header[1]), [(c, p, line) for line, (c, p) in body]


def hierarchy_from_csv(paths: Sequence[str], name: Optional[str] = None) -> ClassHierarchy:
    """A hierarchy from one two-column ``child,parent`` CSV file per coarser level."""
    if isinstance(paths, str):
        paths = [paths]
    levels: List[List[str]] = []
    parents: List[List[int]] = []
    level_names: List[Optional[str]] = []
    edges = []
    for index, path in enumerate(paths):
        (child_name, parent_name), rows = _read_csv_level(path)
        generic = (child_name.lower(), parent_name.lower()) == ('child', 'parent')
        if index == 0:
            level_names.append(None if generic else child_name)
            levels.append([])
            for child, _, line in rows:
                if child in levels[0]:
                    first = next(ln for c, _, ln in rows if c == child)
                    raise HierarchyError(f'{path}, line {line}: child {child!r} is listed '
                                         f'twice (first on line {first})')
                levels[0].append(child)
        elif not generic and level_names[-1] is not None and child_name != level_names[-1]:
            raise HierarchyError(f'{path}: its header names the child level {child_name!r}, '
                                 f'but {paths[index - 1]} named it {level_names[-1]!r}')
        below = levels[-1]
        if index > 0 and child_name in below and child_name not in [c for c, _, _ in rows]:
            raise HierarchyError(f'{path}, line 1: {child_name + "," + parent_name!r} looks '
                                 f'like a child,parent row ({child_name!r} is a node of the '
                                 f'level below and has no other row); the first line must be '
                                 f'a header naming the two levels, e.g. "class,category", or '
                                 f'"child,parent"')
        coarser: List[str] = []
        parent_of: Dict[str, Tuple[str, int]] = {}
        for child, parent, line in rows:
            if child in parent_of:
                raise HierarchyError(f'{path}, line {line}: child {child!r} is listed twice '
                                     f'(first on line {parent_of[child][1]}, under '
                                     f'{parent_of[child][0]!r})')
            if child not in below:
                raise HierarchyError(f'{path}, line {line}: child {child!r} is not a node of '
                                     f'the level below (from '
                                     f'{paths[index - 1] if index else path}): {below}')
            parent_of[child] = (parent, line)
            if parent not in coarser:
                coarser.append(parent)
            edges.append((child, parent, f'{path}, line {line}'))
        missing = [node for node in below if node not in parent_of]
        if missing:
            raise HierarchyError(f'{path}: nodes {missing} of the level below have no parent '
                                 f'row')
        levels.append(coarser)
        parents.append([coarser.index(parent_of[node][0]) for node in below])
        level_names.append(None if generic else parent_name)
    _check_no_cycle(edges)
    names = None if any(n is None for n in level_names) else level_names
    if name is None:
        name = osp.splitext(osp.basename(paths[0]))[0]
    return ClassHierarchy(levels, parents, level_names=names, name=name)


def load_hierarchy_file(spec) -> ClassHierarchy:
    """A hierarchy from a ``.json`` / ``.yaml`` / ``.yml`` file or from CSV file(s).

    Raises:
        FileNotFoundError: naming the missing file.
        HierarchyError: naming the file (and line or key) of what is wrong.
    """
    if not isinstance(spec, str):
        return hierarchy_from_csv(list(spec))
    if spec.lower().endswith('.csv'):
        return hierarchy_from_csv([spec])
    if not osp.isfile(spec):
        raise FileNotFoundError(f'hierarchy file {spec!r} does not exist')
    import yaml
    with open(spec, encoding='utf-8') as f:
        try:
            data = json.load(f) if spec.lower().endswith('.json') else yaml.safe_load(f)
        except (ValueError, yaml.YAMLError) as error:
            kind = 'JSON' if spec.lower().endswith('.json') else 'YAML'
            raise HierarchyError(f'{spec}: not valid {kind}: {error}') from error
    if isinstance(data, dict) and 'name' not in data:
        data = dict(data, name=osp.splitext(osp.basename(spec))[0])
    try:
        return hierarchy_from_dict(data, where=spec)
    except HierarchyError as error:
        message = str(error)
        raise HierarchyError(message if spec in message else f'{spec}: {message}') from None

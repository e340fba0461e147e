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

from .file_lines import duplicate_key, line_of
from .names import did_you_mean, level_label
from .tree import ClassHierarchy, HierarchyError

HIERARCHY_FILE_SUFFIXES = ('.json', '.yaml', '.yml', '.csv')


def is_hierarchy_file(spec) -> bool:
    """Whether ``spec`` names a hierarchy file (or a list of CSV files) by its suffix."""
    if isinstance(spec, str):
        return spec.lower().endswith(HIERARCHY_FILE_SUFFIXES)
    return (isinstance(spec, (list, tuple)) and len(spec) > 0
            and all(isinstance(p, str) and p.lower().endswith('.csv') for p in spec))


def _check_no_cycle(edges: Sequence[Tuple[str, str, str, Optional[tuple]]]):
    """Raises a HierarchyError if the child -> parent name graph has a cycle.

    ``edges`` are ``(child, parent, where, key)``; self-edges (a node continuing one level
    up under its own name) are not cycles. The error carries the key of the edge that
    closes the cycle.
    """
    graph: Dict[str, List[Tuple[str, str, Optional[tuple]]]] = {}
    for child, parent, where, key in edges:
        if child != parent:
            graph.setdefault(child, []).append((parent, where, key))
    state: Dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: List[str]):
        state[node] = 1
        for parent, where, key in graph.get(node, ()):
            if state.get(parent) == 1:
                loop = path[path.index(parent):] + [parent]
                raise HierarchyError(f'the hierarchy has a cycle: {" -> ".join(loop)} '
                                     f'(closed by {where})', key)
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
            the level below (with the closest name), a leaf listed twice, a cycle between
            names, or anything :class:`ClassHierarchy` rejects. Its ``key`` locates the
            problem in the dict form (``('groups', 0, 'warm', 1)``).
    """
    if isinstance(classes, str) or not isinstance(classes, Sequence):
        raise HierarchyError(f'{where}: "classes" must be a list of leaf names, '
                             f'got {classes!r}', ('classes', ))
    if isinstance(groups, dict) or not isinstance(groups, Sequence):
        raise HierarchyError(f'{where}: "groups" must be a list with one mapping per coarser '
                             f'level, got {type(groups).__name__}', ('groups', ))
    if not all(isinstance(c, str) for c in classes):
        raise HierarchyError(f'{where}: with "groups", "classes" is the list of leaf names '
                             f'(the coarser levels are the group names), got {classes!r}',
                             ('classes', ))
    if level_names is not None and len(level_names) != len(groups) + 1:
        raise HierarchyError(f'{where}: {len(level_names)} level names {list(level_names)} '
                             f'for {len(groups) + 1} levels (the leaves and one per entry of '
                             f'"groups")', ('level_names', ))
    for index, leaf in enumerate(classes):
        if leaf in classes[:index]:
            raise HierarchyError(f'{where}: leaf {leaf!r} is listed twice in "classes" '
                                 f'(items {classes.index(leaf) + 1} and {index + 1})',
                                 ('classes', index))
    levels = [list(classes)]
    parents, edges = [], []
    for index, grouping in enumerate(groups):
        label = f'groups[{index}]'
        made = f'{label} (the {level_label(index + 1, level_names)} nodes)'
        below_label = level_label(index, level_names)
        if not isinstance(grouping, dict):
            raise HierarchyError(f'{where}: {made} must map group names to member lists, '
                                 f'got {type(grouping).__name__}', ('groups', index))
        below = levels[-1]
        parent_of: Dict[str, int] = {}
        for group_index, (group, members) in enumerate(grouping.items()):
            if isinstance(members, str) or not isinstance(members, Sequence):
                raise HierarchyError(f'{where}: {label}[{group!r}] must be a list of '
                                     f'names, got {members!r}', ('groups', index, group))
            for member_index, member in enumerate(members):
                key = ('groups', index, group, member_index)
                member = str(member)
                if member not in below:
                    raise HierarchyError(f'{where}: {label}[{group!r}] lists {member!r}, '
                                         f'which is not a node of {below_label}'
                                         f'{did_you_mean(member, below)}', key)
                if member in parent_of:
                    first = list(grouping)[parent_of[member]]
                    raise HierarchyError(f'{where}: {member!r} is listed twice in {label} '
                                         f'(under {first!r} and {group!r})', key)
                parent_of[member] = group_index
                edges.append((member, str(group), f'{where}, groups[{index}][{group!r}]',
                              key))
        missing = [node for node in below if node not in parent_of]
        if missing:
            raise HierarchyError(f'{where}: {below_label} nodes {missing} are in no group of '
                                 f'{made}', ('groups', index))
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
        raise _missing_file(path)
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
            raise HierarchyError(f'{path}, line 1: its header names the child level '
                                 f'{child_name!r}, but {paths[index - 1]} named it '
                                 f'{level_names[-1]!r}')
        below = levels[-1]
        below_label = level_label(index, level_names)
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
                source = f'the parent column of {paths[index - 1]}' if index else path
                raise HierarchyError(f'{path}, line {line}: child {child!r} is not a node of '
                                     f'{below_label}{did_you_mean(child, below)}; its nodes '
                                     f'(from {source}): {below}')
            parent_of[child] = (parent, line)
            if parent not in coarser:
                coarser.append(parent)
            edges.append((child, parent, f'{path}, line {line}', None))
        missing = [node for node in below if node not in parent_of]
        if missing:
            raise HierarchyError(f'{path}: nodes {missing} of {below_label} have no parent '
                                 f'row')
        levels.append(coarser)
        parents.append([coarser.index(parent_of[node][0]) for node in below])
        level_names.append(None if generic else parent_name)
    _check_no_cycle(edges)
    names = None if any(n is None for n in level_names) else level_names
    if name is None:
        name = osp.splitext(osp.basename(paths[0]))[0]
    return ClassHierarchy(levels, parents, level_names=names, name=name)


def _missing_file(path: str) -> FileNotFoundError:
    return FileNotFoundError(
        f'hierarchy file {path!r} does not exist (from the current folder '
        f'{osp.abspath(".")}; in a config read by the hieraseg tools a relative path is '
        f"looked up in the config's folder first, then in the current folder)")


def load_hierarchy_file(spec) -> ClassHierarchy:
    """A hierarchy from a ``.json`` / ``.yaml`` / ``.yml`` file or from CSV file(s).

    Raises:
        FileNotFoundError: naming the missing file.
        HierarchyError: naming the file and line (a CSV row, or the line of the YAML / JSON
            key at fault) of what is wrong.
    """
    if not isinstance(spec, str):
        for path in spec:
            if not osp.isfile(path):
                raise _missing_file(path)
        return hierarchy_from_csv(list(spec))
    if not osp.isfile(spec):
        raise _missing_file(spec)
    if spec.lower().endswith('.csv'):
        return hierarchy_from_csv([spec])
    import yaml
    with open(spec, encoding='utf-8') as f:
        text = f.read()
    kind = 'JSON' if spec.lower().endswith('.json') else 'YAML'
    try:
        data = json.loads(text) if kind == 'JSON' else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise HierarchyError(f'{spec}: not valid {kind}: {error}') from error
    twice = duplicate_key(text)
    if twice is not None:
        key, first, second = twice
        raise HierarchyError(f'{spec}, line {second}: {key!r} is written twice in the same '
                             f'mapping (first on line {first}); a {kind} reader would keep '
                             f'only the second')
    if isinstance(data, dict) and 'name' not in data:
        data = dict(data, name=osp.splitext(osp.basename(spec))[0])
    try:
        return hierarchy_from_dict(data, where=spec)
    except HierarchyError as error:
        message = str(error)
        if message.startswith(f'{spec}: '):
            message = message[len(spec) + 2:]
        line = line_of(text, error.key) if error.key else None
        place = spec if line is None else f'{spec}, line {line}'
        raise HierarchyError(f'{place}: {message}', error.key) from None

import os
import os.path as osp
from functools import lru_cache
from typing import Dict, Sequence, Tuple, Union

from .builtin import BUILTIN_HIERARCHIES
from .files import hierarchy_from_dict, is_hierarchy_file, load_hierarchy_file
from .tree import ClassHierarchy, HierarchyError

HierarchyLike = Union[str, Dict, Sequence[str], ClassHierarchy]


@lru_cache(maxsize=None)
def _builtin(name: str) -> ClassHierarchy:
    return BUILTIN_HIERARCHIES[name]()


@lru_cache(maxsize=64)
def _from_file(spec, stamps: Tuple) -> ClassHierarchy:
    # ``stamps`` (size, mtime of each file) is part of the key: an edited file is re-read
    return load_hierarchy_file(spec)


def _stamps(paths: Sequence[str]) -> Tuple:
    return tuple((osp.abspath(p), os.stat(p).st_size, os.stat(p).st_mtime_ns)
                 if osp.isfile(p) else (p, None, None) for p in paths)


def build_hierarchy(spec: HierarchyLike) -> ClassHierarchy:
    """A :class:`ClassHierarchy` from what a config holds.

    Args:
        spec: a built-in name (``'cityscapes'``, ``'lip'``, ``'pascal_person_part'``,
            ``'mapillary_v2'``, ``'toy_shapes'``), a dict with keys ``classes`` (names per
            level, finest first), ``parents`` (per level but the coarsest, the parent index
            of each node in the next level) and optionally ``level_names`` and ``name``, or
            a dict with ``groups`` instead of ``parents`` (per coarser level, a mapping
            ``group name -> members of the level below``), a path to a ``.json`` /
            ``.yaml`` / ``.yml`` file holding either dict form, a path to a two-column
            ``child,parent`` ``.csv`` file or a list of them (one per coarser level; see
            :mod:`hieraseg.hierarchy.files`), or a :class:`ClassHierarchy` (returned as is).

    Built-in hierarchies are built once per process and shared; files are read again only
    when they change.
    """
    if isinstance(spec, ClassHierarchy):
        return spec
    if isinstance(spec, str) and spec in BUILTIN_HIERARCHIES:
        return _builtin(spec)
    if is_hierarchy_file(spec):
        key = spec if isinstance(spec, str) else tuple(spec)
        return _from_file(key, _stamps([spec] if isinstance(spec, str) else spec))
    if isinstance(spec, str):
        raise HierarchyError(f'unknown built-in hierarchy {spec!r}; choose one of '
                             f'{sorted(BUILTIN_HIERARCHIES)}, give a dict with "classes" and '
                             f'"parents" (or "groups"), or a .json / .yaml / .csv file')
    if isinstance(spec, dict):
        return hierarchy_from_dict(dict(spec), where='hierarchy dict')
    raise HierarchyError(f'a hierarchy is a built-in name, a dict, a .json / .yaml / .csv '
                         f'file (or a list of .csv files) or a ClassHierarchy, not '
                         f'{spec!r}')

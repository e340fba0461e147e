from functools import lru_cache
from typing import Dict, Union

from .builtin import BUILTIN_HIERARCHIES
from .tree import ClassHierarchy, HierarchyError

HierarchyLike = Union[str, Dict, ClassHierarchy]


@lru_cache(maxsize=None)
def _builtin(name: str) -> ClassHierarchy:
    return BUILTIN_HIERARCHIES[name]()


def build_hierarchy(spec: HierarchyLike) -> ClassHierarchy:
    """A :class:`ClassHierarchy` from what a config holds.

    Args:
        spec: a built-in name (``'cityscapes'``, ``'lip'``, ``'pascal_person_part'``,
            ``'mapillary_v2'``, ``'toy_shapes'``), a dict with keys ``classes`` (names per
            level, finest first), ``parents`` (per level but the coarsest, the parent index
            of each node in the next level) and optionally ``level_names`` and ``name``, or
            a :class:`ClassHierarchy` (returned as is).

    Built-in hierarchies are built once per process and shared.
    """
    if isinstance(spec, ClassHierarchy):
        return spec
    if isinstance(spec, str):
        if spec not in BUILTIN_HIERARCHIES:
            raise HierarchyError(f'unknown built-in hierarchy {spec!r}; choose one of '
                                 f'{sorted(BUILTIN_HIERARCHIES)} or give a dict with '
                                 f'"classes" and "parents"')
        return _builtin(spec)
    if isinstance(spec, dict):
        unknown = set(spec) - {'classes', 'parents', 'level_names', 'name'}
        missing = {'classes', 'parents'} - set(spec)
        if unknown or missing:
            raise HierarchyError(f'a hierarchy dict takes the keys "classes", "parents", '
                                 f'"level_names", "name"; missing {sorted(missing)}, '
                                 f'unknown {sorted(unknown)}')
        return ClassHierarchy(**spec)
    raise HierarchyError(f'a hierarchy is a built-in name, a dict or a ClassHierarchy, '
                         f'not {type(spec).__name__}')

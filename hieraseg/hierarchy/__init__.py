from .build import HierarchyLike, build_hierarchy
from .builtin import (BUILTIN_HIERARCHIES, CITYSCAPES_CLASSES, LIP_CLASSES, LIP_FLIP_PAIRS,
                      MAPILLARY_V2_CLASSES, PASCAL_PERSON_PART_CLASSES, TOY_SHAPES_CLASSES)
from .files import hierarchy_from_groups, load_hierarchy_file
from .tree import ClassHierarchy, HierarchyError

__all__ = [
    'ClassHierarchy', 'HierarchyError', 'HierarchyLike', 'build_hierarchy',
    'hierarchy_from_groups', 'load_hierarchy_file',
    'BUILTIN_HIERARCHIES', 'CITYSCAPES_CLASSES', 'LIP_CLASSES', 'LIP_FLIP_PAIRS',
    'MAPILLARY_V2_CLASSES', 'PASCAL_PERSON_PART_CLASSES', 'TOY_SHAPES_CLASSES'
]

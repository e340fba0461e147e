from .hierarchy_meta import HierarchyMetaMixin
from .toy_shapes import ToyShapesDataset, generate_toy_shapes

__all__ = ['HierarchyMetaMixin', 'ToyShapesDataset', 'generate_toy_shapes']

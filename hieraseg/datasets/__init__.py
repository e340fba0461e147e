from .cast_formatting import PackCASTInputs, PackCASTSegInputs
from .cast_preprocessors import CASTClsDataPreprocessor, CASTSegDataPreProcessor
from .flip_pairs import MIRROR_FLIP_DIRECTIONS, check_label_pairs, label_swap_table
from .hiera_datasets import (HieraCityscapesDataset, HieraLIPDataset,
                             HieraMapillaryDataset_v2)
from .hiera_seg_dataset import HieraSegDataset
from .hierarchy_meta import HierarchyMetaMixin
from .pascal_person_part import PascalPersonPartDataset
from .superpixels import (SuperpixelError, Superpixels, compute_superpixels,
                          relabel_contiguous)
from .toy_objects import TOY_OBJECT_CLASSES, ToyObjectsDataset, generate_toy_objects
from .toy_shapes import ToyShapesDataset, generate_toy_shapes
from .toy_shapes_deep import generate_toy_shapes_deep
from .transforms import RandomFlipWithLabelSwap

__all__ = ['HierarchyMetaMixin', 'HieraSegDataset', 'ToyShapesDataset', 'generate_toy_shapes',
           'HieraCityscapesDataset', 'HieraLIPDataset', 'HieraMapillaryDataset_v2',
           'PascalPersonPartDataset', 'RandomFlipWithLabelSwap', 'MIRROR_FLIP_DIRECTIONS',
           'check_label_pairs', 'label_swap_table', 'Superpixels', 'SuperpixelError',
           'compute_superpixels', 'relabel_contiguous', 'PackCASTInputs', 'PackCASTSegInputs',
           'CASTClsDataPreprocessor', 'CASTSegDataPreProcessor', 'ToyObjectsDataset',
           'TOY_OBJECT_CLASSES', 'generate_toy_objects', 'generate_toy_shapes_deep']

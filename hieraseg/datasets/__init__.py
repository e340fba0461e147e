from .flip_pairs import MIRROR_FLIP_DIRECTIONS, check_label_pairs, label_swap_table
from .hiera_datasets import (HieraCityscapesDataset, HieraLIPDataset,
                             HieraMapillaryDataset_v2)
from .hiera_seg_dataset import HieraSegDataset
from .hierarchy_meta import HierarchyMetaMixin
from .pascal_person_part import PascalPersonPartDataset
from .toy_shapes import ToyShapesDataset, generate_toy_shapes
from .transforms import RandomFlipWithLabelSwap

__all__ = ['HierarchyMetaMixin', 'HieraSegDataset', 'ToyShapesDataset', 'generate_toy_shapes',
           'HieraCityscapesDataset', 'HieraLIPDataset', 'HieraMapillaryDataset_v2',
           'PascalPersonPartDataset', 'RandomFlipWithLabelSwap', 'MIRROR_FLIP_DIRECTIONS',
           'check_label_pairs', 'label_swap_table']

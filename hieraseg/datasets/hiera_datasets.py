"""mmseg's Cityscapes, LIP and Mapillary Vistas 2.0 data sets with their class hierarchy.

Each class is mmseg's own data set class (same folders, suffixes and ``data_prefix``
handling) with a ``hierarchy`` key added to ``METAINFO``; :class:`HierarchyMetaMixin`
checks on construction that the hierarchy's leaves are the data set's classes, and the
hierarchy reaches metrics and heads through ``dataset_meta['hierarchy']``. A different
hierarchy (a built-in name or a dict) can be given with ``metainfo=dict(hierarchy=...)``.
"""
from mmseg.datasets import CityscapesDataset, LIPDataset, MapillaryDataset_v2
from mmseg.registry import DATASETS

from .hierarchy_meta import HierarchyMetaMixin


@DATASETS.register_module()
class HieraCityscapesDataset(HierarchyMetaMixin, CityscapesDataset):
    """Cityscapes (19 train ids) with the 'cityscapes' hierarchy (19 -> 7 categories).

    Layout (mmseg's): ``leftImg8bit/<split>/<city>/<name>_leftImg8bit.png`` and
    ``gtFine/<split>/<city>/<name>_gtFine_labelTrainIds.png`` (train ids, 255 = ignore),
    e.g. ``data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train')``.
    """
    METAINFO = dict(CityscapesDataset.METAINFO, hierarchy='cityscapes')


@DATASETS.register_module()
class HieraLIPDataset(HierarchyMetaMixin, LIPDataset):
    """LIP (20 classes) with the 'lip' hierarchy (20 -> upper/lower body -> person).

    Files (mmseg's suffixes): images ``<id>.jpg``, labels ``<id>.png`` with the same
    ``<id>``, values 0..19 (255 = ignore); e.g. the LIP release unpacked as is:
    ``data_prefix=dict(img_path='TrainVal_images/train_images',
    seg_map_path='TrainVal_parsing_annotations/train_segmentations')``.

    Classes 14..19 name body sides: train with ``RandomFlipWithLabelSwap(
    swap_label_pairs=LIP_FLIP_PAIRS)`` instead of ``RandomFlip``, and test flips with
    ``FlipSwapSegTTAModel(flip_label_pairs=LIP_FLIP_PAIRS)``.
    """
    METAINFO = dict(LIPDataset.METAINFO, hierarchy='lip')


@DATASETS.register_module()
class HieraMapillaryDataset_v2(HierarchyMetaMixin, MapillaryDataset_v2):
    """Mapillary Vistas 2.0 (124 classes) with hieraseg's 'mapillary_v2' hierarchy
    (124 -> 16 -> 4; the grouping is ours, the paper does not publish its mapping).

    Layout (mmseg's config): ``training/images/<id>.jpg`` and
    ``training/v2.0/labels/<id>.png`` (palette PNGs whose indices are the class ids), e.g.
    ``data_prefix=dict(img_path='training/images', seg_map_path='training/v2.0/labels')``;
    ``validation/`` likewise.
    """
    METAINFO = dict(MapillaryDataset_v2.METAINFO, hierarchy='mapillary_v2')

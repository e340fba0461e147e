"""A generic hierarchical segmentation data set: your images, your labels, your hierarchy."""
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from hieraseg.hierarchy import build_hierarchy
from hieraseg.hierarchy.files import is_hierarchy_file
from .hierarchy_meta import HierarchyMetaMixin


@DATASETS.register_module()
class HieraSegDataset(HierarchyMetaMixin, BaseSegDataset):
    """mmseg's ``BaseSegDataset`` with a class hierarchy in its metainfo.

    The hierarchy is required (``metainfo=dict(hierarchy=...)``: a built-in name, a dict,
    or a ``.json`` / ``.yaml`` / ``.csv`` file, see :func:`build_hierarchy`). The classes
    default to the hierarchy's leaves, so a config writes them once; if ``classes`` is given
    too it must equal the leaves, in order. Without a ``palette``, mmseg draws one (fixed
    seed). Everything else is ``BaseSegDataset``'s: ``data_root``, ``data_prefix``
    (``img_path``, ``seg_map_path``), ``img_suffix`` / ``seg_map_suffix`` (default ``.jpg``
    / ``.png``), ``ann_file`` (a list of file stems), ``reduce_zero_label``, plus
    ``check_labels`` (scan every label file once for values outside the classes).

    Labels are single-channel PNGs holding leaf ids ``0 .. C-1`` in the order of the
    hierarchy's leaves, and 255 for pixels to ignore.

    Example::

        dataset = dict(
            type='HieraSegDataset',
            data_root='data/my_data',
            data_prefix=dict(img_path='images/train', seg_map_path='labels/train'),
            metainfo=dict(hierarchy='data/my_data/hierarchy.yaml'),
            pipeline=...)

    Raises:
        HierarchyError: no hierarchy, a malformed one, or classes other than its leaves.
    """
    METAINFO = dict()

    def __init__(self, metainfo=None, **kwargs):
        metainfo = dict(metainfo or {})
        if metainfo.get('hierarchy') is None:
            from hieraseg.hierarchy import HierarchyError
            raise HierarchyError(
                f'{type(self).__name__} needs a class hierarchy: metainfo=dict(hierarchy=...) '
                f'with a built-in name, a dict or a .json / .yaml / .csv file')
        hierarchy = build_hierarchy(metainfo['hierarchy'])
        if is_hierarchy_file(metainfo['hierarchy']):
            metainfo['hierarchy'] = hierarchy.to_dict()  # see HierarchyMetaMixin
        if metainfo.get('classes') is None:
            metainfo['classes'] = list(hierarchy.classes[0])
        super().__init__(metainfo=metainfo, **kwargs)

import os.path as osp

from hieraseg.hierarchy import ClassHierarchy, build_hierarchy
from hieraseg.hierarchy.files import is_hierarchy_file
from .label_scan import scan_label_files


class HierarchyMetaMixin:
    """For mmseg datasets whose ``METAINFO`` names a class hierarchy (key ``hierarchy``).

    Checks on construction that the hierarchy's leaves are the data set's classes, that the
    image folder exists and holds images, and, with ``check_labels=True``, that every label
    file holds only class ids and the ignore index (:func:`scan_label_files`; read once,
    then cached by file size and modification time). So a wrong hierarchy, data root or
    label fails when the data set is built, with a message naming the file or folder. The
    hierarchy reaches metrics through ``dataset_meta['hierarchy']``: a file (``.json``,
    ``.yaml``, ``.csv``) is read when the data set is built and kept as its dict form, so
    that ``dataset_meta`` (saved in checkpoints) does not depend on the file. A data set
    that names no palette (neither its ``METAINFO`` nor ``metainfo``) gets the hierarchy's
    (:func:`~hieraseg.visualization.palette.hierarchy_palette`: siblings share a hue
    family) instead of mmseg's random colours.

    Args:
        check_labels (bool): scan the label files. Default False.
        Other arguments are those of the mmseg data set.
    """

    def __init__(self, *args, check_labels: bool = False, **kwargs):
        self.check_labels = check_labels  # full_init, called by the parent, reads it
        metainfo = kwargs.get('metainfo')
        if metainfo is not None and is_hierarchy_file(metainfo.get('hierarchy')):
            # read the file here: mmengine's BaseDataset would replace a metainfo string
            # that names a file by the file's lines
            kwargs['metainfo'] = metainfo = dict(
                metainfo, hierarchy=build_hierarchy(metainfo['hierarchy']).to_dict())
        given = dict(getattr(self, 'METAINFO', None) or {}, **(metainfo or {}))
        if given.get('hierarchy') is not None and not given.get('palette'):
            from hieraseg.visualization.palette import hierarchy_palette
            kwargs['metainfo'] = dict(
                metainfo or {}, palette=hierarchy_palette(build_hierarchy(given['hierarchy']))[0])
        super().__init__(*args, **kwargs)
        spec = self.metainfo.get('hierarchy')
        if spec is not None:
            hierarchy = build_hierarchy(spec)
            hierarchy.check_classes(self.metainfo['classes'], f'{type(self).__name__}')
            if isinstance(spec, ClassHierarchy):
                self._metainfo['hierarchy'] = hierarchy.to_dict()  # plain data in checkpoints

    def load_data_list(self):
        img_dir = self.data_prefix.get('img_path', '')
        if not osp.isdir(img_dir):
            raise FileNotFoundError(
                f'{type(self).__name__}: image folder {img_dir!r} does not exist '
                f'(data_root={self.data_root!r})')
        data_list = super().load_data_list()
        if not data_list:
            raise FileNotFoundError(
                f'{type(self).__name__}: image folder {img_dir!r} (and its sub-folders) '
                f'holds no file ending in img_suffix={self.img_suffix!r}'
                + (f' (with labels ending in seg_map_suffix={self.seg_map_suffix!r})'
                   if self.data_prefix.get('seg_map_path') else ''))
        return data_list

    def full_init(self):
        if self._fully_initialized:
            return
        super().full_init()
        if self.check_labels:
            paths = [self.get_data_info(i).get('seg_map_path') for i in range(len(self))]
            scan_label_files([p for p in paths if p], len(self.metainfo['classes']),
                             self.ignore_index, self.reduce_zero_label, self.label_map,
                             where=type(self).__name__)

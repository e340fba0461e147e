import os.path as osp

from hieraseg.hierarchy import build_hierarchy


class HierarchyMetaMixin:
    """For mmseg datasets whose ``METAINFO`` names a class hierarchy (key ``hierarchy``).

    Checks on construction that the hierarchy's leaves are the data set's classes, and that
    the image folder exists, so a wrong hierarchy or data root fails when the data set is
    built, with a message naming the problem. The hierarchy reaches metrics through
    ``dataset_meta['hierarchy']``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        spec = self.metainfo.get('hierarchy')
        if spec is not None:
            build_hierarchy(spec).check_classes(self.metainfo['classes'],
                                                f'{type(self).__name__}')

    def load_data_list(self):
        img_dir = self.data_prefix.get('img_path', '')
        if not osp.isdir(img_dir):
            raise FileNotFoundError(
                f'{type(self).__name__}: image folder {img_dir!r} does not exist '
                f'(data_root={self.data_root!r})')
        return super().load_data_list()

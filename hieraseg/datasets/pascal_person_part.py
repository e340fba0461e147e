"""PASCAL-Person-Part (human part parsing on PASCAL VOC 2010 images); mmseg has none."""
import os.path as osp

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from hieraseg.hierarchy import PASCAL_PERSON_PART_CLASSES
from .hierarchy_meta import HierarchyMetaMixin


@DATASETS.register_module()
class PascalPersonPartDataset(HierarchyMetaMixin, BaseSegDataset):
    """PASCAL-Person-Part: 7 classes (background, head, torso, upper arm, lower arm, upper
    leg, lower leg), hierarchy 'pascal_person_part' (7 -> upper/lower body -> person).

    On-disk layout (the one of the common part-parsing releases)::

        <data_root>/
            JPEGImages/<id>.jpg          RGB images, e.g. 2008_000003.jpg
            SegmentationPart/<id>.png    single-channel labels, values 0..6, 255 = ignore
            train_id.txt                 split files: one image id per line, no folder,
            val_id.txt                   no suffix (e.g. ``2008_000003``); blank lines skipped

    Use ``data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationPart')`` and
    ``ann_file='train_id.txt'`` (relative to ``data_root``). ``ann_file`` is optional:
    without it, every ``.jpg`` under ``img_path`` is used, sorted by path.

    Raises:
        FileNotFoundError: if the image folder or the split file does not exist, or the
            split file lists an image that is not in the image folder.
    """
    METAINFO = dict(
        classes=PASCAL_PERSON_PART_CLASSES,
        palette=[[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128],
                 [128, 0, 128], [0, 128, 128]],
        hierarchy='pascal_person_part')

    def __init__(self, img_suffix='.jpg', seg_map_suffix='.png', ann_file='', **kwargs):
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         ann_file=ann_file, **kwargs)

    def load_data_list(self):
        name = type(self).__name__
        if self.ann_file and not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'{name}: split file {self.ann_file!r} does not exist (leave ann_file empty '
                f'to use every image in the image folder)')
        data_list = super().load_data_list()
        if not self.ann_file:
            return data_list
        # mmseg turns a blank line of the split file into the path '<img_dir>/<suffix>'
        blank_line_path = osp.join(self.data_prefix['img_path'], self.img_suffix)
        data_list = [info for info in data_list if info['img_path'] != blank_line_path]
        missing = [info['img_path'] for info in data_list if not osp.isfile(info['img_path'])]
        if missing:
            raise FileNotFoundError(
                f'{name}: {len(missing)} of the {len(data_list)} images listed in '
                f'{self.ann_file!r} do not exist, e.g. {missing[:3]}')
        return data_list

from typing import List, Optional

import mmcv
import numpy as np
from mmengine.structures import PixelData
from mmseg.registry import VISUALIZERS
from mmseg.visualization import SegLocalVisualizer

from hieraseg.hierarchy import ClassHierarchy, HierarchyLike, build_hierarchy


@VISUALIZERS.register_module()
class HieraSegLocalVisualizer(SegLocalVisualizer):
    """Draws ground truth and prediction side by side at every level of a class hierarchy.

    The picture has one row per level, finest first; each row is the ground truth mapped to
    that level next to the prediction mapped to it (the leaf prediction's ancestors, which is
    HSSN's hierarchy-consistent prediction). A coarse node takes the colour of its first
    leaf in the data set's palette. Without a hierarchy (none given and none in the data
    set's metainfo) it draws as :class:`SegLocalVisualizer` does.

    Images smaller than ``min_side`` pixels are enlarged (nearest neighbour, by a whole
    factor) so that class names stay legible.

    Args:
        hierarchy: the class hierarchy; default: ``dataset_meta['hierarchy']``.
        min_side (int): the smallest side a drawn cell gets. Default 256.
        Other arguments are those of :class:`SegLocalVisualizer`.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 hierarchy: Optional[HierarchyLike] = None,
                 min_side: int = 256,
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self._hierarchy = hierarchy
        self.min_side = min_side

    def _resolve_hierarchy(self) -> Optional[ClassHierarchy]:
        spec = self._hierarchy
        if spec is None:
            spec = (self.dataset_meta or {}).get('hierarchy')
        return None if spec is None else build_hierarchy(spec)

    def _leaf_palette(self, hierarchy: ClassHierarchy) -> List[List[int]]:
        palette = (self.dataset_meta or {}).get('palette')
        if palette is not None and len(palette) == hierarchy.num_leaves:
            return [list(c) for c in palette]
        rng = np.random.default_rng(42)  # fixed colours from one run to the next
        return rng.integers(0, 256, size=(hierarchy.num_leaves, 3)).tolist()

    def draw_levels(self, image: np.ndarray, data_sample, hierarchy: ClassHierarchy,
                    draw_gt: bool = True, draw_pred: bool = True,
                    with_labels: bool = True) -> np.ndarray:
        """The picture: ``[L * H, n * W, 3]`` RGB, n = number of drawn maps per level."""
        leaf_palette = self._leaf_palette(hierarchy)
        factor = max(1, -(-self.min_side // min(image.shape[:2])))
        image = image.repeat(factor, axis=0).repeat(factor, axis=1)
        wanted = [key for key, on in (('gt_sem_seg', draw_gt), ('pred_sem_seg', draw_pred))
                  if on and key in data_sample]
        rows = []
        for level in range(hierarchy.num_levels):
            classes = hierarchy.classes[level]
            palette = hierarchy.palette_at_level(leaf_palette, level)
            cells = []
            for key in wanted:
                labels = hierarchy.labels_at_level(data_sample.get(key).data.cpu(), level)
                labels = labels.repeat_interleave(factor, 1).repeat_interleave(factor, 2)
                cells.append(self._draw_sem_seg(image, PixelData(data=labels), classes, palette,
                                                with_labels))
            rows.append(np.concatenate(cells, axis=1))
        return np.concatenate(rows, axis=0)

    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample=None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       with_labels: Optional[bool] = True) -> None:
        hierarchy = self._resolve_hierarchy()
        has_maps = data_sample is not None and (
            (draw_gt and 'gt_sem_seg' in data_sample)
            or (draw_pred and 'pred_sem_seg' in data_sample))
        if hierarchy is None or not has_maps:
            return super().add_datasample(name, image, data_sample, draw_gt, draw_pred, show,
                                          wait_time, out_file, step, with_labels)
        drawn = self.draw_levels(image, data_sample, hierarchy, draw_gt, draw_pred,
                                 with_labels)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(drawn), out_file)
        else:
            self.add_image(name, drawn, step)

from typing import List, Optional, Sequence

import mmcv
import numpy as np
from mmseg.registry import VISUALIZERS
from mmseg.visualization import SegLocalVisualizer
from PIL import Image, ImageDraw, ImageFont

from hieraseg.hierarchy import ClassHierarchy, HierarchyLike, build_hierarchy
from .overlay import overlay_labels
from .palette import hierarchy_palette


@VISUALIZERS.register_module()
class HieraSegLocalVisualizer(SegLocalVisualizer):
    """Draws ground truth and prediction side by side at every level of a class hierarchy.

    The picture has one row per level, finest first; each row is the ground truth mapped to
    that level next to the prediction mapped to it (the leaf prediction's ancestors, which is
    HSSN's hierarchy-consistent prediction). Every panel has a title ("<level>: ground
    truth", "<level>: prediction"), and each row ends in a legend of the classes present in
    its panels (a colour swatch and the name), so no text is drawn over the image and
    nothing is clipped. Each map is blended with the image at ``alpha`` (default 0.5, so the
    image stays readable everywhere), ignored pixels are left as they are, and the
    boundaries between regions are drawn in white.

    Colours: a data set that gives its own palette keeps it (Cityscapes' official colours;
    a coarse node takes the colour of its first leaf); otherwise the hierarchy's palette
    (:func:`~hieraseg.visualization.palette.hierarchy_palette`: siblings share their
    parent's hue family, distinct within it, a parent has its family's colour), which
    :class:`HieraSegDataset` also puts in its metainfo when none is given. Without a
    hierarchy (none given and none in the data set's metainfo) it draws as
    :class:`SegLocalVisualizer` does.

    Images smaller than ``min_side`` pixels are enlarged (nearest neighbour, by a whole
    factor) so that the panels stay legible.

    Args:
        hierarchy: the class hierarchy; default: ``dataset_meta['hierarchy']``.
        min_side (int): the smallest side a drawn cell gets. Default 256.
        alpha (float): the weight of the class colours over the image. Default 0.5.
        Other arguments are those of :class:`SegLocalVisualizer`.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 hierarchy: Optional[HierarchyLike] = None,
                 min_side: int = 256,
                 alpha: float = 0.5,
                 **kwargs):
        super().__init__(name=name, alpha=alpha, **kwargs)
        self._hierarchy = hierarchy
        self.min_side = min_side

    def _resolve_hierarchy(self) -> Optional[ClassHierarchy]:
        spec = self._hierarchy
        if spec is None:
            spec = (self.dataset_meta or {}).get('hierarchy')
        return None if spec is None else build_hierarchy(spec)

    def level_palettes(self, hierarchy: ClassHierarchy) -> List[List[List[int]]]:
        """A colour per node of every level (class docstring)."""
        levels = hierarchy_palette(hierarchy)
        palette = (self.dataset_meta or {}).get('palette')
        if palette is None or len(palette) != hierarchy.num_leaves:
            return levels
        palette = [[int(v) for v in c] for c in palette]
        if palette == levels[0]:
            return levels
        return [hierarchy.palette_at_level(palette, level)
                for level in range(hierarchy.num_levels)]

    def draw_levels(self, image: np.ndarray, data_sample, hierarchy: ClassHierarchy,
                    draw_gt: bool = True, draw_pred: bool = True,
                    with_labels: bool = True) -> np.ndarray:
        """The picture, ``[L * (T + H), n * W + legend width, 3]`` RGB: a row per level of
        ``n`` titled panels (title height ``T``; ``n`` = number of drawn maps), then the
        legend of the classes present. ``with_labels=False`` leaves out the legend."""
        palettes = self.level_palettes(hierarchy)
        factor = max(1, -(-self.min_side // min(image.shape[:2])))
        image = image.repeat(factor, axis=0).repeat(factor, axis=1)
        wanted = [(key, title) for key, title, on in (
            ('gt_sem_seg', 'ground truth', draw_gt), ('pred_sem_seg', 'prediction', draw_pred))
            if on and key in data_sample]
        font = self._font(image.shape[0])
        rows = []
        for level in range(hierarchy.num_levels):
            classes = hierarchy.classes[level]
            palette = palettes[level]
            cells, present = [], set()
            for key, title in wanted:
                labels = hierarchy.labels_at_level(data_sample.get(key).data.cpu(), level)
                present.update(v for v in labels.unique().tolist() if 0 <= v < len(classes))
                labels = labels[0].numpy().repeat(factor, 0).repeat(factor, 1)
                cell = overlay_labels(image, labels, palette, self.alpha)
                cells.append(self._titled(cell, f'{hierarchy.level_names[level]}: {title}',
                                          font))
            row = np.concatenate(cells, axis=1)
            if with_labels:
                legend = self._legend([(classes[i], palette[i]) for i in sorted(present)],
                                      row.shape[0], font)
                row = np.concatenate([row, legend], axis=1)
            rows.append(row)
        width = max(row.shape[1] for row in rows)  # legends differ in width
        rows = [np.pad(row, ((0, 0), (0, width - row.shape[1]), (0, 0)),
                       constant_values=255) for row in rows]
        return np.concatenate(rows, axis=0)

    @staticmethod
    def _font(cell_height: int):
        """Pillow's default font at 1/16 of the cell height (at least 11 px); its fixed
        bitmap font where Pillow has no FreeType."""
        try:
            return ImageFont.load_default(size=max(11, cell_height // 16))
        except (TypeError, ImportError, OSError):
            return ImageFont.load_default()

    @staticmethod
    def _text_size(font, text: str):
        left, top, right, bottom = ImageDraw.Draw(Image.new('RGB', (1, 1))).textbbox(
            (0, 0), text, font=font)
        return right - left, bottom - top

    def _titled(self, cell: np.ndarray, title: str, font) -> np.ndarray:
        """``cell`` under a white strip with ``title`` in it (shortened with '...' to fit
        the cell's width)."""
        height = self._text_size(font, 'Ag')[1] + 8
        width = cell.shape[1] - 8
        while self._text_size(font, title)[0] > width and len(title) > 4:
            title = title[:-4] + '...'
        strip = Image.new('RGB', (cell.shape[1], height), 'white')
        ImageDraw.Draw(strip).text((4, 4), title, fill='black', font=font)
        return np.concatenate([np.asarray(strip), cell], axis=0)

    def _legend(self, entries: Sequence, height: int, font) -> np.ndarray:
        """A white ``[height, w, 3]`` panel: a swatch and the name per ``(name, colour)``,
        in as many columns as the height needs."""
        line = self._text_size(font, 'Ag')[1] + 8
        per_column = max(1, (height - 8) // line)
        columns = [entries[i:i + per_column] for i in range(0, len(entries), per_column)]
        widths = [max(self._text_size(font, name)[0] for name, _ in column) + line + 12
                  for column in columns] or [0]
        panel = Image.new('RGB', (sum(widths) + 8, height), 'white')
        draw = ImageDraw.Draw(panel)
        x = 4
        for column, width in zip(columns, widths):
            for i, (name, colour) in enumerate(column):
                y = 4 + i * line
                draw.rectangle([x, y, x + line - 6, y + line - 6], fill=tuple(colour),
                               outline='black')
                draw.text((x + line, y + 2), name, fill='black', font=font)
            x += width
        return np.asarray(panel)

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

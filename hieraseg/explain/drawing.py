"""Pictures of DNC explanations (matplotlib, Agg canvas: no display needed).

Sizes are fixed, so a picture's size tells what it holds: ``PANEL_PX`` wide per panel
(classification: input, winner, runner-ups; segmentation: image, prediction, sub-centroid
map, legend) and ``CLS_HEIGHT_PX`` / ``SEG_HEIGHT_PX`` high.
"""
import colorsys
import os
import os.path as osp
import textwrap
from typing import List, Optional, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .explain import ClassEvidence, ClassificationExplanation, SegmentationExplanation

__all__ = ['draw_classification', 'draw_segmentation', 'sub_centroid_shades',
           'sub_centroid_colour_map', 'PANEL_PX', 'CLS_HEIGHT_PX', 'SEG_HEIGHT_PX']

DPI = 100
PANEL_PX = 300
CLS_HEIGHT_PX = 420
SEG_HEIGHT_PX = 360
WINNER_COLOUR = '#1a9e3f'
RUNNER_UP_COLOUR = '#888888'


def sub_centroid_shades(colour: Sequence[int], num_shades: int) -> np.ndarray:
    """``[K, 3] uint8``: K shades of a class colour, dark (k=0) to light (k=K-1), same hue
    and saturation. A single shade is the colour itself."""
    if num_shades == 1:
        return np.asarray([colour], dtype=np.uint8)
    hue, _, saturation = colorsys.rgb_to_hls(*(np.asarray(colour, dtype=float) / 255))
    shades = [colorsys.hls_to_rgb(hue, lightness, saturation)
              for lightness in np.linspace(0.25, 0.8, num_shades)]
    return np.round(np.asarray(shades) * 255).astype(np.uint8)


def sub_centroid_colour_map(palette: Sequence[Sequence[int]], num_sub: int) -> np.ndarray:
    """``[C, K, 3] uint8`` shades for every class."""
    return np.stack([sub_centroid_shades(colour, num_sub) for colour in palette])


def _new_figure(num_panels: int, height_px: int) -> Figure:
    fig = Figure(figsize=(num_panels * PANEL_PX / DPI, height_px / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.patch.set_facecolor('white')
    return fig


def _panel(fig: Figure, index: int, count: int, bottom: float, height: float):
    margin = 0.06 / count
    return fig.add_axes([index / count + margin, bottom, 1 / count - 2 * margin, height])


def _save(fig: Figure, out: str) -> str:
    folder = osp.dirname(osp.abspath(out))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(out, dpi=DPI, facecolor='white')
    return out


def _image_axes(ax, image: Optional[np.ndarray], title: str, frame: Optional[str] = None):
    if image is None:
        ax.text(0.5, 0.5, 'no exemplar', ha='center', va='center', fontsize=9)
    else:
        ax.imshow(image, interpolation='nearest')
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=7.5, loc='center')
    for spine in ax.spines.values():
        spine.set_edgecolor(frame or 'black')
        spine.set_linewidth(4 if frame else 0.5)


def _evidence_caption(e: ClassEvidence, head: str) -> str:
    lines = [head, f'cos(x, p) = {e.similarity:.3f}   logit {e.logit:.2f}']
    if e.exemplar_similarity is not None:
        lines.append(f'cos(x, exemplar) = {e.exemplar_similarity:.3f}')
    if e.exemplar is not None:
        where = e.exemplar.get('img_path')
        lines.append(osp.basename(where) if where else f"train #{e.exemplar['index']}")
    return '\n'.join(textwrap.shorten(line, 44) for line in lines)


def draw_classification(explanation: ClassificationExplanation, out: str) -> str:
    """Input | winning exemplar | runner-up exemplars, the rule as the title; ``out``."""
    items = [explanation.prediction] + list(explanation.runner_ups)
    count = 1 + len(items)
    fig = _new_figure(count, CLS_HEIGHT_PX)
    p = explanation.prediction
    rule = (f"IF x is most like exemplar ('{p.class_name}', k={p.sub_centroid})"
            + (f' [cos {p.exemplar_similarity:.2f}]' if p.exemplar_similarity is not None
               else '') + f" THEN class '{p.class_name}'")
    if explanation.runner_ups:
        rule += '\nrunner-up: ' + '; '.join(
            f"'{r.class_name}' via k={r.sub_centroid}"
            + (f' [cos {r.exemplar_similarity:.2f}]' if r.exemplar_similarity is not None
               else '') for r in explanation.runner_ups)
    fig.suptitle('\n'.join(textwrap.shorten(line, 44 * count) for line in rule.split('\n')),
                 fontsize=9, y=0.975)
    _image_axes(_panel(fig, 0, count, 0.03, 0.68), explanation.image,
                f'input x\n{textwrap.shorten(osp.basename(explanation.image_path), 40)}\n'
                f"predicted: '{p.class_name}'")
    for i, item in enumerate(items):
        if i == 0:
            head = f"winner: '{item.class_name}' sub-centroid k={item.sub_centroid}"
        else:
            head = f"runner-up #{i + 1}: '{item.class_name}' k={item.sub_centroid}"
        _image_axes(_panel(fig, i + 1, count, 0.03, 0.68), item.exemplar_image,
                    _evidence_caption(item, head),
                    WINNER_COLOUR if i == 0 else RUNNER_UP_COLOUR)
    return _save(fig, out)


def _legend_axes(ax, explanation: SegmentationExplanation, classes: List[int]):
    shades = sub_centroid_colour_map(explanation.palette, explanation.num_sub_centroids)
    k = explanation.num_sub_centroids
    grid = np.full((len(classes), k + 1, 3), 255, dtype=np.uint8)
    for row, c in enumerate(classes):
        grid[row, 0] = explanation.palette[c]
        grid[row, 1:] = shades[c]
    ax.imshow(grid, aspect='auto', interpolation='nearest')
    ax.axvline(0.5, color='white', linewidth=3)
    ax.set_yticks(range(len(classes)))
    ax.set_yticklabels([textwrap.shorten(explanation.class_names[c], 14) for c in classes],
                       fontsize=7)
    ax.set_xticks(range(k + 1))
    ax.set_xticklabels(['class'] + [str(i) for i in range(k)], fontsize=6)
    ax.set_xlabel('sub-centroid k', fontsize=7)
    ax.set_title('legend: class colour,\nits K sub-centroid shades', fontsize=7.5)


def draw_segmentation(explanation: SegmentationExplanation, out: str) -> str:
    """Image | prediction | winning sub-centroid map | legend; ``out``."""
    palette = np.asarray(explanation.palette, dtype=np.uint8)
    shades = sub_centroid_colour_map(explanation.palette, explanation.num_sub_centroids)
    predicted = palette[explanation.prediction]
    winners = shades[explanation.prediction, explanation.sub_centroid]
    classes = explanation.classes_present()[:20]
    fig = _new_figure(4, SEG_HEIGHT_PX)
    fig.suptitle('DNC: prediction and the winning sub-centroid of every pixel', fontsize=9)
    _image_axes(_panel(fig, 0, 4, 0.08, 0.72), explanation.image,
                textwrap.shorten(osp.basename(explanation.image_path), 40))
    _image_axes(_panel(fig, 1, 4, 0.08, 0.72), predicted, 'prediction (class colours)')
    _image_axes(_panel(fig, 2, 4, 0.08, 0.72), winners,
                f'winning sub-centroid (K={explanation.num_sub_centroids}\nshades per class, '
                'dark k=0 .. light)')
    legend = fig.add_axes([3 / 4 + 0.075, 0.14, 1 / 4 - 0.09, 0.66])
    _legend_axes(legend, explanation, classes)
    return _save(fig, out)

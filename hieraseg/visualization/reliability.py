"""Reliability diagrams per hierarchy level (matplotlib, Agg canvas: no display needed).

One panel per level and row: the accuracy of every confidence bin (bars) against its mean
confidence (the diagonal is perfect calibration; a red gap marks the difference), the share
of pixels per bin as a thin grey bar at the bottom, and the ECE in the title. Rows compare
models or settings, e.g. before and after temperature scaling.
"""
import io
from typing import Sequence, Tuple

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from hieraseg.evaluation.calibration import (CONFIDENCE, COUNT, CORRECT, classwise_ece_from_counts,
                                             ece_from_counts)
from hieraseg.utils.atomic_files import write_atomically

__all__ = ['draw_reliability_diagrams']

PANEL_INCHES = 3.2


def _draw_panel(axes, counts: np.ndarray, title: str) -> None:
    """``counts``: one level's ``[C, B, 3]`` sums."""
    bins = counts.sum(0)
    num_bins = len(bins)
    edges = np.linspace(0, 1, num_bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    filled = bins[:, COUNT] > 0
    accuracy = np.where(filled, bins[:, CORRECT] / np.maximum(bins[:, COUNT], 1), 0)
    confidence = np.where(filled, bins[:, CONFIDENCE] / np.maximum(bins[:, COUNT], 1), 0)
    width = 1 / num_bins
    axes.bar(centres[filled], accuracy[filled], width=width, color='#4c72b0',
             edgecolor='white', label='accuracy')
    axes.bar(centres[filled], (confidence - accuracy)[filled], bottom=accuracy[filled],
             width=width, color='#dd4444', alpha=0.35, edgecolor='#dd4444', label='gap')
    axes.plot([0, 1], [0, 1], '--', color='#333333', linewidth=1)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel('confidence')
    axes.set_ylabel('accuracy')
    share = bins[:, COUNT] / max(bins[:, COUNT].sum(), 1)
    shares = axes.twinx()
    shares.step(edges, np.append(share, share[-1]), where='post', color='#555555',
                linewidth=1)
    shares.set_ylim(0, 1)
    shares.set_ylabel('share of pixels (grey line)', color='#555555', fontsize=8)
    axes.set_title(f'{title}\nECE {ece_from_counts(bins) * 100:.2f}  '
                   f'cwECE {classwise_ece_from_counts(counts) * 100:.2f}', fontsize=9)


def draw_reliability_diagrams(rows: Sequence[Tuple[str, Sequence[np.ndarray]]],
                              level_names: Sequence[str], out: str) -> str:
    """Writes a PNG with one row per ``(row name, level counts)`` and one panel per level.

    Args:
        rows: per row its name and every level's ``[C_l, B, 3]`` sums.
        level_names: the hierarchy's level names, finest first.
        out: the PNG path (written through a partial file).
    """
    if not rows:
        raise ValueError('draw_reliability_diagrams needs at least one row')
    fig = Figure(figsize=(PANEL_INCHES * len(level_names), PANEL_INCHES * len(rows)), dpi=100)
    FigureCanvasAgg(fig)
    for row, (row_name, level_counts) in enumerate(rows):
        if len(level_counts) != len(level_names):
            raise ValueError(f'row {row_name!r} has {len(level_counts)} levels, the '
                             f'hierarchy {len(level_names)}')
        for level, (counts, name) in enumerate(zip(level_counts, level_names)):
            axes = fig.add_subplot(len(rows), len(level_names), row * len(level_names) + level + 1)
            _draw_panel(axes, np.asarray(counts, dtype=np.float64), f'{row_name}: {name}')
            if row == 0 and level == 0:
                axes.legend(loc='upper left', fontsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format='png', facecolor='white')
    write_atomically(buffer.getvalue(), out)
    return out

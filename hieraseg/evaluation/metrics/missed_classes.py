"""The end-of-evaluation warning about classes the model does not get: per level, the classes
that have ground truth in the evaluated images but IoU 0 -- never predicted, or predicted
only where they are not.

It reads what :class:`HierarchicalIoUMetric` accumulates (per image and level the
``(intersect, union, pred area, label area)`` areas, ``[C_l]`` each), so it judges the
model's real prediction on the evaluated images, whatever a training-time counter (DNC's
``dnc_dead_classes``) says.
"""
import logging
from typing import List, NamedTuple, Sequence

from mmengine.logging import print_log

from hieraseg.hierarchy import ClassHierarchy


class MissedClass(NamedTuple):
    level: int  # 0-based, finest first
    index: int  # within the level
    name: str
    label_area: int  # ground-truth pixels
    pred_area: int  # pixels predicted as the class (none of them right)


def missed_classes(hierarchy: ClassHierarchy, results: Sequence) -> List[MissedClass]:
    """The classes of every level with ground truth but no correctly predicted pixel.

    Args:
        results: per image, per level ``(intersect, union, pred_area, label_area)``.
    """
    missed = []
    for level in range(hierarchy.num_levels):
        intersect, _, pred_area, label_area = (
            sum(parts) for parts in zip(*(image[level] for image in results)))
        for index in range(hierarchy.level_sizes[level]):
            if float(label_area[index]) > 0 and float(intersect[index]) == 0:
                missed.append(MissedClass(level, index, hierarchy.classes[level][index],
                                          int(label_area[index]), int(pred_area[index])))
    return missed


def format_missed_classes(hierarchy: ClassHierarchy, missed: Sequence[MissedClass]) -> str:
    """One line per level that has missed classes, the levels named as the metric names
    them."""
    lines = []
    for level in sorted({m.level for m in missed}):
        parts = [f'{m.name} ({m.label_area} px of ground truth, '
                 + ('never predicted)' if m.pred_area == 0 else
                    f'predicted on {m.pred_area} px, none of them right)')
                 for m in missed if m.level == level]
        lines.append(f'  {hierarchy.level_label(level)}: ' + '; '.join(parts))
    return '\n'.join(lines)


def warn_missed_classes(hierarchy: ClassHierarchy, results: Sequence) -> List[MissedClass]:
    """Logs a warning listing :func:`missed_classes` (nothing when there are none) and
    returns them."""
    missed = missed_classes(hierarchy, results)
    if missed:
        count = '1 class has' if len(missed) == 1 else f'{len(missed)} classes have'
        print_log(f'{count} ground truth in the evaluated images but IoU 0 (the model '
                  'never predicts them there):\n'
                  + format_missed_classes(hierarchy, missed)
                  + '\nA class that stays at IoU 0 is not learnt: train longer, check its '
                  'labels (tools/hierarchy_stats.py) and, for DNC, the dnc_* health lines '
                  'of the training log (docs/own_data.md, "What the warnings mean").',
                  logger='current', level=logging.WARNING)
    return missed

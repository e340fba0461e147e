"""Left/right label pairs that a mirror flip exchanges (e.g. LIP's left arm <-> right arm).

Shared by the training flip (:class:`RandomFlipWithLabelSwap`, swaps label ids in the ground
truth) and flip test-time augmentation (``FlipSwapSegTTAModel``, swaps score channels), so
both follow one rule for which flips exchange left and right.
"""
from typing import Sequence, Tuple

import numpy as np

LabelPairs = Tuple[Tuple[int, int], ...]

# A horizontal or a vertical flip is a mirror image: a person's left side becomes their
# right side. A 'diagonal' flip (both axes) is a 180 degree rotation, which keeps the sides.
MIRROR_FLIP_DIRECTIONS = ('horizontal', 'vertical')


def _is_integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_label_pairs(pairs: Sequence[Sequence[int]], what: str) -> LabelPairs:
    """``pairs`` as a tuple of int pairs, or a ValueError naming ``what`` and the problem.

    Each pair holds two different non-negative label ids, and no id is in two pairs
    (otherwise swapping would not be a well-defined exchange).
    """
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence):
        raise ValueError(f'{what}: expected a sequence of (left, right) label pairs, '
                         f'got {pairs!r}')
    checked, seen = [], set()
    for pair in pairs:
        is_pair = (isinstance(pair, Sequence) and not isinstance(pair, (str, bytes))
                   and len(pair) == 2)
        if not (is_pair and all(_is_integer(label) for label in pair)):
            raise ValueError(f'{what}: each entry must be a pair of integer label ids, '
                             f'got {pair!r} in {pairs!r}')
        left, right = int(pair[0]), int(pair[1])
        if left < 0 or right < 0 or left == right:
            raise ValueError(f'{what}: a pair needs two different non-negative label ids, '
                             f'got {pair!r}')
        for label in (left, right):
            if label in seen:
                raise ValueError(f'{what}: label {label} appears in more than one pair of '
                                 f'{pairs!r}')
            seen.add(label)
        checked.append((left, right))
    return tuple(checked)


def label_swap_table(pairs: LabelPairs, size: int) -> np.ndarray:
    """The permutation ``[size]`` (int64) that maps each label id to its mirror partner.

    ``table[label]`` is the partner of ``label`` in ``pairs``, or ``label`` itself; used as a
    lookup table on label maps and as a channel order on score maps.
    """
    largest = max((max(pair) for pair in pairs), default=-1)
    if largest >= size:
        raise ValueError(f'label pair id {largest} does not fit {size} classes / label values')
    table = np.arange(size, dtype=np.int64)
    for left, right in pairs:
        table[left], table[right] = right, left
    return table

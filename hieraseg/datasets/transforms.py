"""Data transforms for hierarchical segmentation data sets."""
from typing import Optional, Sequence, Union

import numpy as np
from mmseg.datasets.transforms import RandomFlip
from mmseg.registry import TRANSFORMS

from .flip_pairs import MIRROR_FLIP_DIRECTIONS, check_label_pairs, label_swap_table


@TRANSFORMS.register_module()
class RandomFlipWithLabelSwap(RandomFlip):
    """mmseg's ``RandomFlip`` that also exchanges left/right labels when it mirrors.

    A drop-in for ``RandomFlip`` in pipelines of data sets whose classes name a side of the
    body, e.g. LIP (``swap_label_pairs=LIP_FLIP_PAIRS``, i.e. 14<->15, 16<->17, 18<->19):
    after a horizontal (or vertical) flip the person's left arm lies where the right arm
    was, so its pixels must carry the right-arm label. A 'diagonal' flip is a rotation by
    180 degrees and keeps the labels.

    Unlike ``RandomFlip(swap_seg_labels=...)`` (mmcv 2.1), which writes the swapped labels
    into a flipped *view* and so changes the caller's label array, this builds a new array
    with one lookup-table gather and swaps only on mirroring flips.

    Modified keys: ``img``, ``gt_seg_map`` ([H, W] integer label ids, flipped when listed in
    ``seg_fields`` as ``LoadAnnotations`` does; 255 and every id not in a pair are kept),
    plus what ``RandomFlip`` modifies. Added keys: ``flip``,
    ``flip_direction``.

    Args:
        swap_label_pairs (Sequence[Sequence[int]]): (left, right) label id pairs; no id in
            two pairs.
        prob (float | list[float]): flip probability, as in ``RandomFlip``.
        direction (str | list[str]): flip direction(s), as in ``RandomFlip``.
    """

    def __init__(self,
                 swap_label_pairs: Sequence[Sequence[int]],
                 prob: Optional[Union[float, Sequence[float]]] = None,
                 direction: Union[str, Sequence[str]] = 'horizontal') -> None:
        super().__init__(prob=prob, direction=direction)
        self.swap_label_pairs = check_label_pairs(swap_label_pairs,
                                                  f'{type(self).__name__}.swap_label_pairs')
        self._largest_pair_id = max((max(pair) for pair in self.swap_label_pairs), default=0)

    def _swap_labels(self, seg_map: np.ndarray) -> np.ndarray:
        """A new [H, W] array with every paired label id replaced by its partner."""
        name = type(self).__name__
        if not np.issubdtype(seg_map.dtype, np.integer):
            raise TypeError(f'{name}: gt_seg_map must hold integer label ids to swap '
                            f'left/right labels, got dtype {seg_map.dtype}')
        if self._largest_pair_id > np.iinfo(seg_map.dtype).max:
            raise ValueError(f'{name}: label id {self._largest_pair_id} of swap_label_pairs '
                             f'does not fit gt_seg_map of dtype {seg_map.dtype}')
        if seg_map.size and seg_map.min() < 0:
            raise ValueError(f'{name}: gt_seg_map holds a negative label {seg_map.min()}')
        size = max(int(seg_map.max(initial=0)), self._largest_pair_id) + 1
        table = label_swap_table(self.swap_label_pairs, size).astype(seg_map.dtype)
        return table[seg_map]

    def _flip(self, results: dict) -> None:
        super()._flip(results)
        # RandomFlip flips the maps named in 'seg_fields' (LoadAnnotations adds gt_seg_map)
        flipped_labels = ('gt_seg_map' in results.get('seg_fields', ())
                          and results.get('gt_seg_map') is not None)
        if flipped_labels and results['flip_direction'] in MIRROR_FLIP_DIRECTIONS:
            results['gt_seg_map'] = self._swap_labels(results['gt_seg_map'])

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, direction={self.direction}, '
                f'swap_label_pairs={self.swap_label_pairs})')

"""Flip test-time augmentation for classes that name a body side (e.g. LIP)."""
from typing import List, Sequence

import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from hieraseg.datasets.flip_pairs import (MIRROR_FLIP_DIRECTIONS, check_label_pairs,
                                          label_swap_table)
from .hiera_tta import HieraSegTTAModel


@MODELS.register_module()
class FlipSwapSegTTAModel(HieraSegTTAModel):
    """mmseg's ``SegTTAModel`` that swaps left/right score channels of mirrored copies.

    mmseg's segmentors already flip each augmented copy's ``seg_logits`` [C, H, W] back to
    the original orientation (``BaseSegmentor.postprocess_result`` reads the ``flip`` and
    ``flip_direction`` meta keys that ``PackSegInputs`` keeps). That puts a flipped copy's
    scores at the right pixels, but its 'left arm' channel still describes the mirrored
    person, whose left arm is the original's right arm. Before ``SegTTAModel`` averages
    the copies, this model exchanges the channels of each pair for every copy whose
    metainfo says it was mirrored (horizontal or vertical flip), so all copies vote for
    the same classes. The copies are then merged as by ``HieraSegTTAModel`` (mmseg's
    ``SegTTAModel`` for a flat model).

    Use it where ``SegTTAModel`` would be used:
    ``tta_model = dict(type='FlipSwapSegTTAModel', flip_label_pairs=LIP_FLIP_PAIRS)``.

    Args:
        flip_label_pairs (Sequence[Sequence[int]]): (left, right) class index pairs, e.g.
            ``((14, 15), (16, 17), (18, 19))`` for LIP.
        **kwargs: ``module`` and ``data_preprocessor``, as for ``SegTTAModel``.
    """

    def __init__(self, flip_label_pairs: Sequence[Sequence[int]], **kwargs):
        super().__init__(**kwargs)
        self.flip_label_pairs = check_label_pairs(
            flip_label_pairs, f'{type(self).__name__}.flip_label_pairs')

    def _unmirror_channels(self, sample: SegDataSample) -> SegDataSample:
        """``sample`` itself, or for a mirrored copy a shallow copy whose ``seg_logits``
        [C, H, W] has each pair's channels exchanged (the original tensor is not touched)."""
        meta = sample.metainfo
        if not (meta.get('flip') and meta.get('flip_direction') in MIRROR_FLIP_DIRECTIONS):
            return sample
        logits = sample.seg_logits.data
        try:
            channel_order = label_swap_table(self.flip_label_pairs, logits.shape[0])
        except ValueError as error:
            raise ValueError(f'{type(self).__name__}: flip_label_pairs do not fit the '
                             f'{logits.shape[0]} score channels of the model: {error}') from None
        unmirrored = SegDataSample(metainfo=meta)
        unmirrored.set_data(dict(sample.items()))
        unmirrored.seg_logits = PixelData(
            data=logits[torch.from_numpy(channel_order).to(logits.device)],
            metainfo=sample.seg_logits.metainfo)
        return unmirrored

    def merge_preds(self, data_samples_list: List[List[SegDataSample]]) -> List[SegDataSample]:
        """Per image a list over augmented copies -> one merged prediction per image."""
        return super().merge_preds([[self._unmirror_channels(sample) for sample in copies]
                                    for copies in data_samples_list])

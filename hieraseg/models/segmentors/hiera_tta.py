"""Test-time augmentation for HSSN models: average path scores, predict every level."""
from typing import List

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import SegTTAModel
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from .hiera_encoder_decoder import HieraEncoderDecoder, add_level_predictions


@MODELS.register_module()
class HieraSegTTAModel(SegTTAModel):
    """mmseg's ``SegTTAModel`` that merges an HSSN model's copies consistently.

    ``HieraEncoderDecoder`` returns, for every augmented copy, ``[C_0, H, W]`` path scores
    decoded from node logits at the original image's size. mmseg's ``SegTTAModel`` would
    average a softmax over them, which treats path scores (e.g. sums of sigmoids in [0, L])
    as logits; this model averages the path scores themselves (for the default ``'sum'``
    decoder that equals decoding the mean of the copies' node sigmoids), takes the
    top-scoring path and adds ``pred_levels``. For any other segmentor it is
    ``SegTTAModel``.
    """

    def merge_preds(self, data_samples_list: List[List[SegDataSample]]) -> List[SegDataSample]:
        if not isinstance(self.module, HieraEncoderDecoder):
            return super().merge_preds(data_samples_list)
        merged = []
        for copies in data_samples_list:
            scores = torch.stack([copy.seg_logits.data for copy in copies]).mean(0)
            sample = SegDataSample(metainfo=copies[0].metainfo)
            sample.set_data(dict(seg_logits=PixelData(data=scores),
                                 pred_sem_seg=PixelData(data=scores.argmax(0, keepdim=True))))
            if 'gt_sem_seg' in copies[0]:
                sample.gt_sem_seg = copies[0].gt_sem_seg
            add_level_predictions(sample, self.module.hierarchy)
            merged.append(sample)
        return merged

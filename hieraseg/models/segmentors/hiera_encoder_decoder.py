import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import OptSampleList, SampleList
from torch import Tensor

from hieraseg.models.heads.hiera_heads import HieraHeadMixin


@MODELS.register_module()
class HieraEncoderDecoder(EncoderDecoder):
    """mmseg's EncoderDecoder for an HSSN decode head: predictions at every level.

    The head's inference picks the top-scoring root-to-leaf path, so ``pred_sem_seg`` holds
    the leaf labels; this segmentor adds ``pred_levels`` (PixelData, ``[L, H, W]``): row l
    is the level-l ancestor of the predicted leaf (row 0 the leaf itself), consistent with
    the hierarchy by construction. Everything else is EncoderDecoder's. (mmseg's TTA model
    rebuilds its merged samples with ``pred_sem_seg`` only; map it with
    ``hierarchy.labels_at_level`` there.)
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not isinstance(self.decode_head, HieraHeadMixin):
            raise TypeError(f'HieraEncoderDecoder needs an HSSN decode head (HieraFCNHead, '
                            f'HieraSepASPPHead, HieraUPerHead, ...), got '
                            f'{type(self.decode_head).__name__}')

    def postprocess_result(self,
                           seg_logits: Tensor,
                           data_samples: OptSampleList = None) -> SampleList:
        data_samples = super().postprocess_result(seg_logits, data_samples)
        hierarchy = self.decode_head.hierarchy
        for sample in data_samples:
            leaf = sample.pred_sem_seg.data[0]  # [H, W]
            levels = torch.stack(
                [hierarchy.labels_at_level(leaf, level) for level in range(hierarchy.num_levels)])
            sample.set_data(dict(pred_levels=PixelData(data=levels)))
        return data_samples

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import OptSampleList, SampleList
from torch import Tensor

from hieraseg.models.heads.hiera_heads import HieraHeadMixin


def add_level_predictions(sample, hierarchy) -> None:
    """Sets ``sample.pred_levels`` (PixelData ``[L, H, W]``) from ``sample.pred_sem_seg``:
    row l is the level-l ancestor of the predicted leaf (row 0 the leaf itself)."""
    leaf = sample.pred_sem_seg.data[0]  # [H, W]
    levels = torch.stack(
        [hierarchy.labels_at_level(leaf, level) for level in range(hierarchy.num_levels)])
    sample.set_data(dict(pred_levels=PixelData(data=levels)))


@MODELS.register_module()
class HieraEncoderDecoder(EncoderDecoder):
    """mmseg's EncoderDecoder for an HSSN decode head: logits carried to the output size,
    predictions at every level.

    Inference keeps the head's ``[B, V, H, W]`` node logits until the end: whole and slide
    inference produce (slide: average over windows) node logits at the input size,
    mmseg's ``postprocess_result`` removes the padding, undoes flips and resizes them to the
    original image, and only then the head's decoder scores every root-to-leaf path. So
    ``seg_logits`` holds ``[C_0, H, W]`` path scores computed from logits at the output
    resolution, ``pred_sem_seg`` the top-scoring path's leaf, and ``pred_levels``
    (PixelData, ``[L, H, W]``) its ancestors at every level, consistent with the hierarchy
    by construction. Test-time augmentation averages the path scores
    (``HieraSegTTAModel``).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not isinstance(self.decode_head, HieraHeadMixin):
            raise TypeError(f'HieraEncoderDecoder needs an HSSN decode head (HieraFCNHead, '
                            f'HieraSepASPPHead, HieraUPerHead, ...), got '
                            f'{type(self.decode_head).__name__}')
        # slide_inference sums this many channels over windows: the node logits
        self.out_channels = self.decode_head.hierarchy.num_nodes

    @property
    def hierarchy(self):
        return self.decode_head.hierarchy

    def encode_decode(self, inputs: Tensor, batch_img_metas) -> Tensor:
        """Images ``[B, 3, H, W]`` -> node logits ``[B, V, H, W]`` at the input size."""
        return self.decode_head.predict_node_logits(self.extract_feat(inputs), batch_img_metas)

    def postprocess_result(self,
                           seg_logits: Tensor,
                           data_samples: OptSampleList = None) -> SampleList:
        """Node logits ``[B, V, H, W]`` -> samples with path scores, leaf and level labels."""
        # mmseg crops, unflips and resizes the node logits (its leaf argmax is replaced below)
        data_samples = super().postprocess_result(seg_logits, data_samples)
        for sample in data_samples:
            node_logits = sample.seg_logits.data.unsqueeze(0)  # [1, V, H, W]
            scores = self.decode_head.leaf_scores(node_logits)[0]
            sample.set_data(dict(
                seg_logits=PixelData(data=scores),
                pred_sem_seg=PixelData(data=scores.argmax(dim=0, keepdim=True))))
            add_level_predictions(sample, self.hierarchy)
        return data_samples

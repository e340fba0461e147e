from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import OptSampleList, SampleList
from torch import Tensor

from hieraseg.models.heads.hiera_heads import HieraHeadMixin
from .level_outputs import add_level_confidences, add_level_predictions, level_test_settings

__all__ = ['HieraEncoderDecoder', 'add_level_predictions']


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

    ``level_confidences`` (PixelData, ``[L, H, W]``) holds the probability the model gives
    each level's prediction, for calibration (:mod:`hieraseg.evaluation.calibration`):
    ``test_cfg.level_probability`` says which, by default the head's
    ``level_probability`` (HSSN: ``'node_sigmoid'``, the sigmoid of the chosen path's node;
    hierarchical DNC: ``'level_softmax'``, the softmax over each level's node logits; see
    :mod:`hieraseg.models.utils.level_probabilities`), and ``test_cfg.level_temperatures``
    (one per level, finest first; ``tools/calibrate_temperature.py`` fits them) divides the
    node logits first. Neither changes a prediction. Merged TTA predictions carry none.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not isinstance(self.decode_head, HieraHeadMixin):
            raise TypeError(f'HieraEncoderDecoder needs an HSSN decode head (HieraFCNHead, '
                            f'HieraSepASPPHead, HieraUPerHead, ...), got '
                            f'{type(self.decode_head).__name__}')
        # slide_inference sums this many channels over windows: the node logits
        self.out_channels = self.decode_head.hierarchy.num_nodes
        self.level_test_settings()  # a bad test_cfg fails here, not after the first image

    def level_test_settings(self):
        """``(level_probability, level_temperatures)`` from ``test_cfg``."""
        return level_test_settings(self.test_cfg, self.hierarchy,
                                   self.decode_head.level_probability,
                                   ('node_sigmoid', 'level_softmax'))

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
        mode, temperatures = self.level_test_settings()
        for sample in data_samples:
            node_logits = sample.seg_logits.data.unsqueeze(0)  # [1, V, H, W]
            scores = self.decode_head.leaf_scores(node_logits)[0]
            sample.set_data(dict(
                seg_logits=PixelData(data=scores),
                pred_sem_seg=PixelData(data=scores.argmax(dim=0, keepdim=True))))
            add_level_predictions(sample, self.hierarchy)
            add_level_confidences(sample, node_logits[0], self.hierarchy, mode, temperatures)
        return data_samples

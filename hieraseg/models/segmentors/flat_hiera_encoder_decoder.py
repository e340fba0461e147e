"""A flat classifier over the leaves whose coarser predictions are inferred from its leaves."""
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import OptSampleList, SampleList
from torch import Tensor

from hieraseg.hierarchy import HierarchyLike, build_hierarchy
from .level_outputs import add_level_confidences, add_level_predictions, level_test_settings

__all__ = ['FlatHieraEncoderDecoder']


@MODELS.register_module()
class FlatHieraEncoderDecoder(EncoderDecoder):
    """mmseg's EncoderDecoder (any flat head: parametric or DNC) that predicts every level of
    a hierarchy from its leaves, with calibrated confidences.

    Training and the leaf prediction are mmseg's. Each prediction also gets ``pred_levels``
    (PixelData ``[L, H, W]``, the ancestors of the predicted leaf) and ``level_confidences``
    (``[L, H, W]``): the softmax of the leaf logits, a parent's probability the sum of its
    leaves' (``'leaf_softmax'``, :mod:`hieraseg.models.utils.level_probabilities`), with
    ``test_cfg.level_temperatures`` (one per level, finest first) dividing the leaf logits
    before the softmax of that level. ``seg_logits`` stays the untempered leaf logits.

    A plain ``EncoderDecoder`` gets the same ECE from :class:`HierarchicalIoUMetric`
    (computed from its ``seg_logits``); this class is what carries fitted temperatures
    (``tools/calibrate_temperature.py`` switches a flat config to it) and the levels.

    Args:
        hierarchy: the class hierarchy (name, dict or ClassHierarchy); its leaves are the
            head's classes.
        Other arguments are those of :class:`EncoderDecoder`.
    """

    def __init__(self, *args, hierarchy: HierarchyLike, **kwargs):
        super().__init__(*args, **kwargs)
        self.hierarchy = build_hierarchy(hierarchy)
        self.hierarchy.check_num_classes(self.decode_head.num_classes,
                                         f'{type(self.decode_head).__name__}.num_classes')
        self.level_test_settings()  # a bad test_cfg fails here, not after the first image

    def level_test_settings(self):
        """``(level_probability, level_temperatures)`` from ``test_cfg``."""
        return level_test_settings(self.test_cfg, self.hierarchy, 'leaf_softmax',
                                   ('leaf_softmax', ))

    def postprocess_result(self, seg_logits: Tensor,
                           data_samples: OptSampleList = None) -> SampleList:
        """mmseg's result, plus ``pred_levels`` and ``level_confidences``."""
        data_samples = super().postprocess_result(seg_logits, data_samples)
        mode, temperatures = self.level_test_settings()
        for sample in data_samples:
            add_level_predictions(sample, self.hierarchy)
            add_level_confidences(sample, sample.seg_logits.data, self.hierarchy, mode,
                                  temperatures)
        return data_samples

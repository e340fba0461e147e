"""Hierarchical DNC decode heads: HSSN heads whose node classifier is nearest sub-centroids.

Each head is an HSSN head (:class:`HieraHeadMixin`: node outputs for every level of the
hierarchy, HSSN losses, tree-triplet embedding branch, root-to-leaf path inference) with
the classifier of a DNC head (:class:`DNCDecodeHeadMixin`: a projection to a per-pixel
embedding, then nearest sub-centroids), whose sub-centroid classifier is a
:class:`HieraSubCentroidClassifier` (K sub-centroids for every node, node logits
normalised per level). The node logits ``[B, V, h, w]`` go to the HSSN losses and
inference unchanged; the labelled pixels' embeddings are kept (with their leaf labels) for
the :class:`SinkhornClusteringHook`, which clusters every node.
"""
from typing import List

from mmseg.models.decode_heads import DepthwiseSeparableASPPHead, FCNHead, UPerHead
from mmseg.registry import MODELS
from torch import Tensor

from hieraseg.models.utils import HieraSubCentroidClassifier
from .classifier_slot import ClassifierSlot
from .dnc_decode_heads import DNCDecodeHeadMixin
from .hiera_heads import HieraHeadMixin

__all__ = ['HieraDNCHeadMixin', 'HieraDNCFCNHead', 'HieraDNCSepASPPHead', 'HieraDNCUPerHead']


class HieraDNCHeadMixin(DNCDecodeHeadMixin, HieraHeadMixin):
    """:class:`DNCDecodeHeadMixin` over :class:`HieraHeadMixin` (composition:
    :mod:`hieraseg.models.heads`).

    The DNC mixin comes first, so that its ``loss`` (classification size), ``predict`` and
    ``loss_by_feat`` (label check, features kept for the hook) wrap the HSSN ones.

    Args: those of both mixins (``hierarchy``, ``loss_decode``, ``loss_triplet``,
    ``path_score``, ... and ``num_sub_centroids``, ``embed_channels``, ``logit_norm``,
    ``temperature``, ``feat_norm``, ``classify_upsampled``, ``upsample_factor``) and the
    mmseg head's; ``min_logit_scale`` (default 0): the per-level LayerNorms' smallest scale
    (:class:`MonotoneLayerNorm`). Not supported (ValueError): ``node_bias_prior`` (there is
    no bias) and the flat DNC contrast / compactness terms (they treat every node as a
    rival class, the ancestors of the label included).

    ``level_probability = 'level_softmax'``: calibration reads the softmax over each
    level's normalised node logits (SPEC section 6's DNC probability), not HSSN's sigmoids.
    """

    level_probability = 'level_softmax'

    def __init__(self, *args, min_logit_scale: float = 0.0, **kwargs):
        if kwargs.get('node_bias_prior'):
            raise ValueError(f'{type(self).__name__}: node_bias_prior needs a parametric '
                             'classifier bias; a sub-centroid classifier has none')
        for key in ('loss_contrast_weight', 'loss_compact_weight'):
            if kwargs.get(key, 0.0) > 0:
                raise ValueError(f'{type(self).__name__}: {key} is not supported on a '
                                 'hierarchical DNC head')
        # read by build_classifier, which runs inside super().__init__ (ClassifierSlot)
        self.min_logit_scale = min_logit_scale
        super().__init__(*args, **kwargs)

    def build_classifier(self) -> None:
        """``projection`` (:meth:`build_projection`) and ``classifier``, a
        :class:`HieraSubCentroidClassifier` over the hierarchy's V nodes."""
        self.projection = self.build_projection()
        self.classifier = HieraSubCentroidClassifier(
            self.hierarchy, feat_dim=self.embed_channels, path_score=self.path_score,
            min_logit_scale=self.min_logit_scale, **self.sub_centroid_cfg)

    @property
    def path_score(self) -> str:
        """How inference scores a root-to-leaf path; setting it sets the classifier's too
        (its predictions use it)."""
        return self._path_score

    @path_score.setter
    def path_score(self, mode: str) -> None:
        HieraHeadMixin.path_score.fset(self, mode)
        self.classifier.path_score = self._path_score

    def predict_node_logits(self, inputs, batch_img_metas: List[dict]) -> Tensor:
        """As :meth:`HieraHeadMixin.predict_node_logits`, classified at the output size
        when ``classify_upsampled`` (as ``predict``)."""
        with self.classifying_at(self.output_size(batch_img_metas)):
            return super().predict_node_logits(inputs, batch_img_metas)


@MODELS.register_module()
class HieraDNCFCNHead(HieraDNCHeadMixin, FCNHead, ClassifierSlot):
    """Hierarchical DNC on FCN."""


@MODELS.register_module()
class HieraDNCSepASPPHead(HieraDNCHeadMixin, DepthwiseSeparableASPPHead, ClassifierSlot):
    """Hierarchical DNC on DeepLabV3+ (depthwise-separable ASPP)."""


@MODELS.register_module()
class HieraDNCUPerHead(HieraDNCHeadMixin, UPerHead, ClassifierSlot):
    """Hierarchical DNC on UPerNet."""

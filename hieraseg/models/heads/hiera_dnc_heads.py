"""Hierarchical DNC decode heads: HSSN heads whose node classifier is nearest sub-centroids.

Each head is an HSSN head (:class:`HieraHeadMixin`: node outputs for every level of the
hierarchy, HSSN losses, tree-triplet embedding branch, root-to-leaf path inference) whose
parametric node classifier is replaced, through :class:`DNCDecodeHeadMixin`, by a
projection to a per-pixel embedding and a :class:`HieraSubCentroidClassifier` (K
sub-centroids for every node, node logits normalised per level). The node logits
``[B, V, h, w]`` go to the HSSN losses and inference unchanged; the labelled pixels'
embeddings are kept (with their leaf labels) for the :class:`SinkhornClusteringHook`,
which clusters every node.

Bases, in this order: ``HieraDNCHeadMixin, HieraHeadMixin, DNCDecodeHeadMixin,
<mmseg head>``. The mixins' constructors run inside one another; this one then removes the
HSSN ``conv_seg`` and swaps the DNC head's flat classifier for the hierarchical one (same K,
width and normalisations).
"""
from mmseg.models.decode_heads import DepthwiseSeparableASPPHead, FCNHead, UPerHead
from mmseg.registry import MODELS
from torch import Tensor

from hieraseg.models.utils import HieraSubCentroidClassifier, check_label_range
from .dnc_decode_heads import DNCDecodeHeadMixin
from .hiera_heads import HieraHeadMixin

__all__ = ['HieraDNCHeadMixin', 'HieraDNCFCNHead', 'HieraDNCSepASPPHead', 'HieraDNCUPerHead']


class HieraDNCHeadMixin:
    """Joins :class:`HieraHeadMixin` and :class:`DNCDecodeHeadMixin`.

    Args: those of both mixins (``hierarchy``, ``loss_decode``, ``loss_triplet``,
    ``path_score``, ... and ``num_sub_centroids``, ``embed_channels``, ``logit_norm``,
    ``temperature``, ``feat_norm``) and the mmseg head's; ``min_logit_scale`` (default 0):
    the per-level LayerNorms' smallest scale (:class:`MonotoneLayerNorm`). Not supported
    (ValueError): ``node_bias_prior`` (there is no bias) and the flat DNC contrast /
    compactness terms
    (they treat every node as a rival class, the ancestors of the label included).

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
        super().__init__(*args, **kwargs)
        del self.conv_seg  # HieraHeadMixin's parametric node classifier
        flat = self.classifier
        self.classifier = HieraSubCentroidClassifier(
            self.hierarchy, flat.num_sub_centroids, flat.feat_dim,
            logit_norm=flat.logit_norm, temperature=flat.temperature,
            feat_norm=flat.feat_norm_type, path_score=self.path_score,
            min_logit_scale=min_logit_scale)

    @property
    def path_score(self) -> str:
        return self._path_score

    @path_score.setter
    def path_score(self, mode: str) -> None:
        """Also the classifier's (its predictions mark the hook's correct features)."""
        self._path_score = mode
        classifier = self.__dict__.get('_modules', {}).get('classifier')
        if isinstance(classifier, HieraSubCentroidClassifier):
            classifier.path_score = mode

    def loss(self, inputs, batch_data_samples, train_cfg) -> dict:
        with self.classifying_at(self.label_size(batch_data_samples)):
            return super().loss(inputs, batch_data_samples, train_cfg)

    def predict_node_logits(self, inputs, batch_img_metas) -> Tensor:
        with self.classifying_at(self.output_size(batch_img_metas)):
            return super().predict_node_logits(inputs, batch_img_metas)

    def loss_by_feat(self, node_logits: Tensor, batch_data_samples,
                     embeddings=None) -> dict:
        """The HSSN losses on the node logits ``[B, V, h, w]``; keeps the labelled pixels'
        embeddings (leaf labels) for the clustering hook."""
        check_label_range(self._stack_batch_gt(batch_data_samples), self.num_classes,
                          self.ignore_index, type(self).__name__, batch_data_samples)
        losses = super().loss_by_feat(node_logits, batch_data_samples, embeddings)
        losses.update(self.keep_for_clustering(batch_data_samples))
        return losses


@MODELS.register_module()
class HieraDNCFCNHead(HieraDNCHeadMixin, HieraHeadMixin, DNCDecodeHeadMixin, FCNHead):
    """Hierarchical DNC on FCN."""


@MODELS.register_module()
class HieraDNCSepASPPHead(HieraDNCHeadMixin, HieraHeadMixin, DNCDecodeHeadMixin,
                          DepthwiseSeparableASPPHead):
    """Hierarchical DNC on DeepLabV3+ (depthwise-separable ASPP)."""


@MODELS.register_module()
class HieraDNCUPerHead(HieraDNCHeadMixin, HieraHeadMixin, DNCDecodeHeadMixin, UPerHead):
    """Hierarchical DNC on UPerNet."""

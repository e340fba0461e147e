"""DNC classification head for mmpretrain: nearest sub-centroids on the pooled feature."""
from typing import List, Optional, Tuple

import torch
from mmpretrain.models.heads import ClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from hieraseg.models.utils import SubCentroidClassifier, check_label_range

__all__ = ['DNCClsHead']


@MODELS.register_module()
class DNCClsHead(ClsHead):
    """Deep Nearest Centroids classification head.

    The last backbone/neck feature ``[N, in_channels]`` (already pooled, e.g. by
    ``GlobalAveragePooling``) is L2-normalised and scored against K unit sub-centroids per
    class (``max_k cos``); logits go through a LayerNorm over classes or a temperature,
    then the usual mmpretrain loss (CE by default). In training the head keeps the
    detached features and ground-truth labels for the :class:`SinkhornClusteringHook`.

    Args:
        num_classes (int): C.
        in_channels (int): D, the feature width (2048 for ResNet-50).
        num_sub_centroids (int): K >= 1. Defaults to 4 (the paper's setting).
        logit_norm (str): ``'layernorm'`` or ``'temperature'``.
        temperature (float): for ``logit_norm='temperature'``.
        feat_norm (str | None): ``'layernorm'`` (a learnable LayerNorm on the feature
            before the L2 normalisation, the default) or None (checkpoints written
            before this option existed need None).
        loss_contrast_weight (float): optional sub-centroid contrast CE weight (0 = off).
        loss_compact_weight (float): optional compactness term weight (0 = off).
        contrast_temperature (float): divides similarities in the contrast CE.
        **kwargs: :class:`mmpretrain.models.heads.ClsHead` arguments (``loss``, ``topk``,
            ``cal_acc``, ``init_cfg``).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 num_sub_centroids: int = 4,
                 logit_norm: str = 'layernorm',
                 temperature: float = 0.1,
                 feat_norm: Optional[str] = 'layernorm',
                 loss_contrast_weight: float = 0.0,
                 loss_compact_weight: float = 0.0,
                 contrast_temperature: float = 1.0,
                 **kwargs):
        super().__init__(**kwargs)
        if loss_contrast_weight < 0 or loss_compact_weight < 0:
            raise ValueError('loss weights must be >= 0')
        if not contrast_temperature > 0:
            raise ValueError(f'contrast_temperature must be > 0, got {contrast_temperature}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.classifier = SubCentroidClassifier(
            num_classes, num_sub_centroids, in_channels,
            logit_norm=logit_norm, temperature=temperature,
            feat_norm=feat_norm)
        self.loss_contrast_weight = float(loss_contrast_weight)
        self.loss_compact_weight = float(loss_compact_weight)
        self.contrast_temperature = float(contrast_temperature)

    def pre_logits(self, feats: Tuple[Tensor]) -> Tensor:
        """The last stage's feature ``[N, D]``."""
        return feats[-1]

    def forward(self, feats: Tuple[Tensor]) -> Tensor:
        """Logits ``[N, C]``."""
        return self.classifier(self.pre_logits(feats))

    def loss(self, feats: Tuple[Tensor], data_samples: List[DataSample],
             **kwargs) -> dict:
        """Classification loss (+ optional sub-centroid terms); keeps features and labels
        for the clustering hook. With batch augmentations (Mixup, CutMix) the kept label
        is each sample's original ``gt_label``. A label outside the classes is an error
        naming the image (:func:`check_label_range`)."""
        x = self.pre_logits(feats)
        labels = torch.cat([s.gt_label for s in data_samples]).to(x.device)
        check_label_range(labels, self.classifier.num_classes, None, type(self).__name__,
                          data_samples)
        logits, sims = self.classifier(x, return_similarities=True)
        losses = self._get_loss(logits, data_samples, **kwargs)
        if self.training:
            self.classifier.keep_for_clustering(x, labels)
        losses.update(self.classifier.auxiliary_losses(
            sims, labels,
            contrast_weight=self.loss_contrast_weight,
            compact_weight=self.loss_compact_weight,
            contrast_temperature=self.contrast_temperature))
        return losses

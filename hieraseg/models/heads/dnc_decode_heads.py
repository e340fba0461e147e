"""DNC segmentation heads: mmseg's decode heads with a nearest-sub-centroid classifier.

Each head subclasses the mmseg head it names and changes one thing, shared through
:class:`DNCDecodeHeadMixin`: in place of the parametric ``conv_seg`` its classifier is a
projection (1x1 conv -> norm -> ReLU -> 1x1 conv) to an embedding, L2-normalised per pixel,
and a :class:`SubCentroidClassifier` (:meth:`DNCDecodeHeadMixin.build_classifier`). During
training the head keeps the detached embeddings of the labelled pixels (labels
nearest-resized to the embedding map, ignore pixels left out) for the
:class:`SinkhornClusteringHook`.

``classify_upsampled=True`` classifies the embeddings bilinearly upsampled to the label
size (training) or the output size (inference) instead of upsampling the logits. For a
linear ``conv_seg`` the two are the same; for nearest sub-centroids they are not: the
logits are a non-linear function of the embedding (max over K, per-pixel score
normalisation), so interpolating them between feature cells cannot place a boundary inside
a cell the way interpolated embeddings can. The kept features stay at the feature
resolution. Classifying at the full label size costs memory (a ``[B, V x K, H, W]``
similarity map and ``[B, D, H, W]`` embeddings); ``upsample_factor`` stops the embeddings'
upsampling at ``factor`` x the feature size, and the logits are upsampled the rest of the
way as usual.
"""
from contextlib import contextmanager
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads import (ASPPHead, DepthwiseSeparableASPPHead, FCNHead,
                                       UPerHead)
from mmseg.registry import MODELS
from torch import Tensor

from hieraseg.models.utils import SubCentroidClassifier, check_label_range
from hieraseg.models.utils.upsampled_classification import classify_upsampled
from .classifier_slot import ClassifierSlot

__all__ = ['DNCDecodeHeadMixin', 'DNCFCNHead', 'DNCASPPHead', 'DNCSepASPPHead',
           'DNCUPerHead']


class DNCDecodeHeadMixin:
    """Gives an mmseg decode head a projection + sub-centroid classifier in place of
    ``conv_seg`` (composition: :mod:`hieraseg.models.heads`).

    Put it first in the bases: ``class DNCFCNHead(DNCDecodeHeadMixin, FCNHead,
    ClassifierSlot)``.

    Args:
        num_sub_centroids (int): K per class. Defaults to 10 (the paper's segmentation
            setting).
        embed_channels (int, optional): embedding width D; defaults to ``channels``.
        logit_norm (str): ``'layernorm'`` or ``'temperature'``.
        temperature (float): for ``logit_norm='temperature'``.
        feat_norm (str | None): ``'layernorm'`` (a learnable LayerNorm on the feature
            before the L2 normalisation, the default) or None (checkpoints written
            before this option existed need None).
        loss_contrast_weight (float): weight of the sub-centroid contrast CE (0 = off;
            ProtoSeg uses 0.01).
        loss_compact_weight (float): weight of the compactness term (0 = off; ProtoSeg
            uses 0.001).
        contrast_temperature (float): divides the similarities in the contrast CE.
        classify_upsampled (bool): classify the embeddings upsampled to the label /
            output size rather than upsample the logits (module docstring). Defaults to
            False.
        upsample_factor (int, optional): with ``classify_upsampled``, upsample the
            embeddings by this factor only (at most to the label / output size); None (the
            default) goes all the way.
        **kwargs: the parent head's arguments. ``init_cfg`` defaults to None, since the
            parent's default initialises ``conv_seg``, which these heads do not have.
    """

    def __init__(self,
                 *,
                 num_sub_centroids: int = 10,
                 embed_channels: Optional[int] = None,
                 logit_norm: str = 'layernorm',
                 temperature: float = 0.1,
                 feat_norm: Optional[str] = 'layernorm',
                 loss_contrast_weight: float = 0.0,
                 loss_compact_weight: float = 0.0,
                 contrast_temperature: float = 1.0,
                 classify_upsampled: bool = False,
                 upsample_factor: Optional[int] = None,
                 **kwargs):
        if loss_contrast_weight < 0 or loss_compact_weight < 0:
            raise ValueError('loss weights must be >= 0')
        if not contrast_temperature > 0:
            raise ValueError(f'contrast_temperature must be > 0, got {contrast_temperature}')
        if upsample_factor is not None and (not isinstance(upsample_factor, int) or
                                            isinstance(upsample_factor, bool) or
                                            upsample_factor < 1):
            raise ValueError(f'upsample_factor must be an integer >= 1 or None, got '
                             f'{upsample_factor!r}')
        if upsample_factor is not None and not classify_upsampled:
            raise ValueError('upsample_factor is only used with classify_upsampled=True')
        # read by build_classifier, which runs inside super().__init__ (ClassifierSlot)
        self.embed_channels = embed_channels
        self.sub_centroid_cfg = dict(num_sub_centroids=num_sub_centroids,
                                     logit_norm=logit_norm, temperature=temperature,
                                     feat_norm=feat_norm)
        kwargs.setdefault('init_cfg', None)
        super().__init__(**kwargs)
        if self.out_channels != self.num_classes:
            raise ValueError(f'{type(self).__name__} needs out_channels == num_classes '
                             '(a single-channel binary output has no class centroids)')
        self.loss_contrast_weight = float(loss_contrast_weight)
        self.loss_compact_weight = float(loss_compact_weight)
        self.contrast_temperature = float(contrast_temperature)
        self.classify_upsampled = bool(classify_upsampled)
        self.upsample_factor = upsample_factor
        self._classify_size: Optional[Sequence[int]] = None
        self._train_forward = None

    def build_classifier(self) -> None:
        """``projection`` (:meth:`build_projection`) and ``classifier``, a
        :class:`SubCentroidClassifier` over the ``num_classes`` classes."""
        self.projection = self.build_projection()
        self.classifier = SubCentroidClassifier(self.num_classes,
                                                feat_dim=self.embed_channels,
                                                **self.sub_centroid_cfg)

    def build_projection(self) -> nn.Sequential:
        """Head features ``[B, channels, h, w]`` -> embeddings ``[B, D, h, w]``: a 1x1
        ConvModule (conv, norm, activation), then a 1x1 conv. Sets ``embed_channels`` (D)
        to ``channels`` when it was not given."""
        if self.embed_channels is None:
            self.embed_channels = self.channels
        return nn.Sequential(
            ConvModule(self.channels, self.channels, 1, conv_cfg=self.conv_cfg,
                       norm_cfg=self.norm_cfg, act_cfg=self.act_cfg),
            nn.Conv2d(self.channels, self.embed_channels, kernel_size=1))

    @contextmanager
    def classifying_at(self, size: Optional[Sequence[int]]):
        """Within the block, :meth:`cls_seg` classifies embeddings upsampled to ``size``
        (``(H, W)``) when ``classify_upsampled`` is set."""
        self._classify_size = tuple(size) if self.classify_upsampled else None
        try:
            yield
        finally:
            self._classify_size = None

    @staticmethod
    def label_size(batch_data_samples) -> Sequence[int]:
        """``(H, W)`` of the batch's (padded) label maps."""
        return tuple(batch_data_samples[0].gt_sem_seg.shape[-2:])

    @staticmethod
    def output_size(batch_img_metas: List[dict]) -> Sequence[int]:
        """``(H, W)`` that mmseg's ``predict_by_feat`` resizes the logits to."""
        meta = batch_img_metas[0]
        if isinstance(meta['img_shape'], torch.Size) or 'pad_shape' not in meta:
            return tuple(meta['img_shape'][:2])
        return tuple(meta['pad_shape'][:2])

    def loss(self, inputs, batch_data_samples, train_cfg) -> dict:
        with self.classifying_at(self.label_size(batch_data_samples)):
            return super().loss(inputs, batch_data_samples, train_cfg)

    def predict(self, inputs, batch_img_metas: List[dict], test_cfg) -> Tensor:
        with self.classifying_at(self.output_size(batch_img_metas)):
            return super().predict(inputs, batch_img_metas, test_cfg)

    def project(self, feat: Tensor) -> Tensor:
        """Per-pixel embeddings ``[B, D, H, W]`` (not yet normalised) of head features."""
        if self.dropout is not None:
            feat = self.dropout(feat)
        return self.projection(feat)

    def cls_seg(self, feat: Tensor) -> Tensor:
        """Logits ``[B, C, h, w]`` of head features ``[B, channels, h, w]``; ``[B, C, H, W]``
        at the label / output size inside :meth:`classifying_at`."""
        emb = self.project(feat)
        batch, dim, height, width = emb.shape
        flat = emb.permute(0, 2, 3, 1).reshape(-1, dim)
        size = self.classify_size((height, width))
        if size == (height, width):
            logits, sims = self.classifier(flat, return_similarities=True)
            logits = logits.view(batch, height, width, -1).permute(0, 3, 1, 2).contiguous()
        else:
            logits = self.classify(emb, size)
            sims = None  # the sub-centroid terms read the feature-resolution ones
        # loss_by_feat needs the embeddings and similarities of this forward.
        self._train_forward = (flat, sims, (height, width)) if self.training else None
        return logits

    def classify_size(self, feature_size: Tuple[int, int]) -> Tuple[int, int]:
        """``(H, W)`` at which :meth:`cls_seg` classifies an embedding map of
        ``feature_size``: that size itself, or inside :meth:`classifying_at` the requested
        size (capped at ``upsample_factor`` x the feature size)."""
        size = self._classify_size
        if size is None:
            return tuple(feature_size)
        if self.upsample_factor is not None:
            size = (min(size[0], feature_size[0] * self.upsample_factor),
                    min(size[1], feature_size[1] * self.upsample_factor))
        return tuple(size)

    def classify(self, emb: Tensor, size: Tuple[int, int]) -> Tensor:
        """Logits ``[B, C, H, W]`` of embeddings ``[B, D, h, w]`` bilinearly upsampled to
        ``size`` = ``(H, W)``, classified pixel by pixel."""
        logits = classify_upsampled(self.classifier, emb, size, self.align_corners)
        return logits.permute(0, 3, 1, 2).contiguous()

    def loss_by_feat(self, seg_logits: Tensor, batch_data_samples) -> dict:
        """The parent's losses, plus the optional sub-centroid terms; keeps the labelled
        pixels' embeddings for the clustering hook. A label outside the classes is an error
        naming the file (:func:`check_label_range`)."""
        check_label_range(self._stack_batch_gt(batch_data_samples), self.num_classes,
                          self.ignore_index, type(self).__name__, batch_data_samples)
        losses = super().loss_by_feat(seg_logits, batch_data_samples)
        losses.update(self.keep_for_clustering(batch_data_samples))
        return losses

    def keep_for_clustering(self, batch_data_samples) -> dict:
        """Hands the labelled pixels' embeddings of the last training forward to the
        classifier (for the clustering hook); returns the optional sub-centroid losses."""
        cached, self._train_forward = self._train_forward, None
        if cached is None:
            return {}
        flat, sims, size = cached
        labels = self._stack_batch_gt(batch_data_samples)  # [B, 1, H_img, W_img]
        labels = F.interpolate(labels.float(), size=size, mode='nearest')
        labels = labels.long().reshape(-1)
        valid = (labels != self.ignore_index) & (labels >= 0) & \
            (labels < self.num_classes)
        labels = labels[valid]
        self.classifier.keep_for_clustering(flat[valid], labels)
        if self.loss_contrast_weight <= 0 and self.loss_compact_weight <= 0:
            return {}
        if sims is None:  # classified upsampled: the terms use the feature resolution
            sims = self.classifier.similarities(flat)
        return self.classifier.auxiliary_losses(
            sims[valid], labels,
            contrast_weight=self.loss_contrast_weight,
            compact_weight=self.loss_compact_weight,
            contrast_temperature=self.contrast_temperature)


@MODELS.register_module()
class DNCFCNHead(DNCDecodeHeadMixin, FCNHead, ClassifierSlot):
    """DNC-FCN: :class:`mmseg.models.FCNHead` with a sub-centroid classifier."""


@MODELS.register_module()
class DNCASPPHead(DNCDecodeHeadMixin, ASPPHead, ClassifierSlot):
    """DNC-DeepLabV3: :class:`mmseg.models.ASPPHead` with a sub-centroid classifier."""


@MODELS.register_module()
class DNCSepASPPHead(DNCDecodeHeadMixin, DepthwiseSeparableASPPHead, ClassifierSlot):
    """DNC-DeepLabV3+: :class:`mmseg.models.DepthwiseSeparableASPPHead` with a
    sub-centroid classifier."""


@MODELS.register_module()
class DNCUPerHead(DNCDecodeHeadMixin, UPerHead, ClassifierSlot):
    """DNC-UPerNet: :class:`mmseg.models.UPerHead` with a sub-centroid classifier."""

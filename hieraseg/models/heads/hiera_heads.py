"""HSSN decode heads: mmseg heads whose classifier scores every node of a class hierarchy.

Each head is its mmseg parent (FCN, DeepLabV3+ separable ASPP, UPerNet) with
 - ``conv_seg`` widened to the hierarchy's V nodes (leaves first, then coarser levels);
 - an embedding branch (1x1 conv -> norm -> ReLU -> 1x1 conv, L2-normalised per pixel) on the
   deepest backbone feature, trained by the tree-triplet loss;
 - hierarchical inference (:mod:`hieraseg.models.utils.path_scores`): the node logits are
   upsampled to the output size, then every root-to-leaf path is scored (by default the sum
   of its nodes' sigmoid scores), so ``predict`` returns ``[B, C_0, H, W]`` path scores whose
   argmax is the top-scoring path. Coarser predictions are that leaf's ancestors.
"""
import inspect
import math
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads import DepthwiseSeparableASPPHead, FCNHead, UPerHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor

from hieraseg.hierarchy import ClassHierarchy, HierarchyError, HierarchyLike, build_hierarchy
from hieraseg.models.utils.path_scores import check_path_score_mode, leaf_path_scores


def top1_accuracy(scores: Tensor, labels: Tensor, ignore_index: int) -> Tensor:
    """mmseg's ``accuracy(scores, labels, topk=1, ignore_index=...)``: the percentage of
    non-ignored pixels whose label scores highest, as a ``[1]`` tensor.

    Computed from the max over classes instead of a top-k sort, which on a CPU costs more
    than the rest of the step's bookkeeping; a label tied with the max counts as correct.

    Args:
        scores: ``[B, C, H, W]``.
        labels: ``[B, H, W]`` class ids or ``ignore_index``.
    """
    valid = labels != ignore_index
    safe_labels = torch.where(valid, labels, torch.zeros_like(labels)).long()
    label_scores = scores.gather(1, safe_labels.unsqueeze(1)).squeeze(1)
    correct = (label_scores >= scores.amax(1)) & valid
    eps = torch.finfo(torch.float32).eps  # as mmseg: no division by zero when all ignored
    num_correct = correct.sum().float().unsqueeze(0)
    return 100.0 * (num_correct + eps) / (valid.sum().float() + eps)


def _with_hierarchy(loss_cfg, hierarchy: ClassHierarchy):
    """A copy of a loss config (or list of them) with ``hierarchy`` filled in where the loss
    takes one, so that configs name the hierarchy once, on the head."""
    if loss_cfg is None:
        return None
    if isinstance(loss_cfg, (list, tuple)):
        return [_with_hierarchy(c, hierarchy) for c in loss_cfg]
    loss_cfg = dict(loss_cfg)
    loss_type = MODELS.get(loss_cfg['type']) if isinstance(loss_cfg['type'], str) \
        else loss_cfg['type']
    if loss_type is None:
        raise KeyError(f'loss type {loss_cfg["type"]!r} is not registered in mmseg MODELS')
    if 'hierarchy' in inspect.signature(loss_type.__init__).parameters:
        given = loss_cfg.get('hierarchy')
        if given is not None and build_hierarchy(given) != hierarchy:
            raise HierarchyError(f'{loss_type.__name__} has hierarchy {given!r} but its head '
                                 f'has {hierarchy.name!r}; give the hierarchy on the head only')
        loss_cfg['hierarchy'] = hierarchy
    return loss_cfg


class HieraHeadMixin:
    """Turns an mmseg decode head into an HSSN head. Mix in before the mmseg head class.

    Args:
        hierarchy: the class hierarchy (built-in name, dict or ClassHierarchy). Its leaves
            are the head's classes: ``num_classes``, if given, must equal their number.
        loss_decode: losses on the ``[B, V, H, W]`` node logits, called as
            ``loss(logits, leaf_labels, weight=None, ignore_index=...)``; losses that take a
            ``hierarchy`` get the head's. Default: focal tree-min (``TreeMinLoss``, gamma 2).
        loss_triplet: the tree-triplet loss config (``TreeTripletLoss``), or None for no
            embedding branch.
        embedding_channels (int): E, the embedding width. Default 256.
        embedding_in_index (int): which backbone output feeds the embedding branch; default
            -1, the deepest.
        embedding_in_channels (int, optional): its channels; inferred from ``in_channels``
            when the head reads the deepest feature.
        path_score (str): how inference scores a root-to-leaf path from its nodes' sigmoid
            scores: ``'sum'`` (default, the paper), ``'min'`` or ``'log'``
            (:mod:`hieraseg.models.utils.path_scores`).
        node_bias_prior (bool): initialise the classifier bias of every level-l node to
            ``logit(1 / C_l)``, the chance that a node lies on a pixel's path when the
            level's classes are equally frequent, instead of 0 (a sigmoid of 0.5 on every
            node, which makes the negative terms dominate the first iterations).
            Default False.

    ``level_probability = 'node_sigmoid'``: the per-level confidence ``HieraEncoderDecoder``
    reports for calibration, the sigmoid of the chosen path's node
    (:mod:`hieraseg.models.utils.level_probabilities`).
    """

    level_probability = 'node_sigmoid'

    def __init__(self,
                 *args,
                 hierarchy: HierarchyLike,
                 loss_decode=dict(type='TreeMinLoss', gamma=2.0, loss_weight=1.0),
                 loss_triplet=None,
                 embedding_channels: int = 256,
                 embedding_in_index: int = -1,
                 embedding_in_channels: Optional[int] = None,
                 num_classes: Optional[int] = None,
                 path_score: str = 'sum',
                 node_bias_prior: bool = False,
                 **kwargs):
        hierarchy = build_hierarchy(hierarchy)
        check_path_score_mode(path_score, f'{type(self).__name__}.path_score')
        if not isinstance(node_bias_prior, bool):
            raise ValueError(f'{type(self).__name__}.node_bias_prior must be True or False, '
                             f'got {node_bias_prior!r}')
        if num_classes is not None:
            hierarchy.check_num_classes(num_classes, f'{type(self).__name__}.num_classes')
        if kwargs.get('out_channels', hierarchy.num_leaves) != hierarchy.num_leaves:
            raise ValueError(f'{type(self).__name__} predicts one score per leaf class; '
                             f'out_channels must be {hierarchy.num_leaves} or unset')
        if kwargs.get('sampler') is not None:
            raise ValueError(f'{type(self).__name__} does not support pixel samplers: they '
                             'rank pixels by leaf-class logits, which this head has not')
        super().__init__(
            *args,
            num_classes=hierarchy.num_leaves,
            loss_decode=_with_hierarchy(loss_decode, hierarchy),
            **kwargs)
        self.hierarchy = hierarchy
        self.path_score = path_score
        self.node_bias_prior = node_bias_prior
        # one output channel per node of every level
        self.conv_seg = nn.Conv2d(self.channels, hierarchy.num_nodes, kernel_size=1)
        self.register_buffer('leaf_to_node', hierarchy.leaf_to_node.clone(), persistent=False)

        self.loss_triplet = None
        if loss_triplet is not None:
            self.loss_triplet = MODELS.build(_with_hierarchy(loss_triplet, hierarchy))
            if embedding_in_channels is None:
                embedding_in_channels = self._deepest_in_channels(embedding_in_index)
            self.embedding_in_index = embedding_in_index
            self.embedding = nn.Sequential(
                ConvModule(embedding_in_channels, embedding_channels, 1,
                           conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg),
                nn.Conv2d(embedding_channels, embedding_channels, 1))

    def _deepest_in_channels(self, embedding_in_index: int) -> int:
        in_index = self.in_index if isinstance(self.in_index, (list, tuple)) else [self.in_index]
        in_channels = self.in_channels if isinstance(self.in_channels, (list, tuple)) \
            else [self.in_channels]
        if embedding_in_index == -1 and self.input_transform != 'resize_concat':
            return in_channels[-1]
        if embedding_in_index in in_index and self.input_transform != 'resize_concat':
            return in_channels[in_index.index(embedding_in_index)]
        raise ValueError('cannot infer the embedding branch\'s input channels; give '
                         'embedding_in_channels')

    def init_weights(self):
        super().init_weights()
        if self.node_bias_prior:
            with torch.no_grad():
                for level, size in enumerate(self.hierarchy.level_sizes):
                    prior = 1.0 / size if size > 1 else 0.5
                    self.conv_seg.bias[self.hierarchy.level_slice(level)] = math.log(
                        prior / (1 - prior))

    def embed(self, inputs: Tuple[Tensor]) -> Tensor:
        """Backbone features -> per-pixel unit embeddings ``[B, E, h, w]``."""
        return F.normalize(self.embedding(inputs[self.embedding_in_index]), p=2, dim=1)

    def leaf_scores(self, node_logits: Tensor) -> Tensor:
        """``[B, V, H, W]`` node logits -> ``[B, C_0, H, W]`` root-to-leaf path scores."""
        return leaf_path_scores(node_logits, self.leaf_to_node, self.path_score)

    def loss(self, inputs: Tuple[Tensor], batch_data_samples, train_cfg) -> dict:
        node_logits = self.forward(inputs)
        embeddings = self.embed(inputs) if self.loss_triplet is not None else None
        return self.loss_by_feat(node_logits, batch_data_samples, embeddings)

    def loss_by_feat(self, node_logits: Tensor, batch_data_samples,
                     embeddings: Optional[Tensor] = None) -> dict:
        """Losses on node logits ``[B, V, h, w]`` and embeddings ``[B, E, h', w']``."""
        leaf_labels = self._stack_batch_gt(batch_data_samples).squeeze(1)  # [B, H, W]
        node_logits = resize(node_logits, size=leaf_labels.shape[1:], mode='bilinear',
                             align_corners=self.align_corners)
        losses_decode: List[nn.Module] = list(self.loss_decode) \
            if isinstance(self.loss_decode, nn.ModuleList) else [self.loss_decode]
        losses = {}
        for loss_decode in losses_decode:
            value = loss_decode(node_logits, leaf_labels, ignore_index=self.ignore_index)
            name = loss_decode.loss_name
            losses[name] = losses[name] + value if name in losses else value
        if self.loss_triplet is not None:
            losses[self.loss_triplet.loss_name] = self.loss_triplet(embeddings, leaf_labels)
        with torch.no_grad():
            losses['acc_seg'] = top1_accuracy(self.leaf_scores(node_logits), leaf_labels,
                                              self.ignore_index)
        return losses

    def predict_node_logits(self, inputs: Tuple[Tensor], batch_img_metas: List[dict]) -> Tensor:
        """Backbone features -> node logits ``[B, V, H, W]`` upsampled to the input size.

        ``HieraEncoderDecoder`` averages these over sliding windows and resizes them to the
        original image before it scores the paths."""
        return super().predict_by_feat(self.forward(inputs), batch_img_metas)

    def predict_by_feat(self, node_logits: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """Node logits ``[B, V, h, w]`` -> leaf path scores ``[B, C_0, H, W]`` at the input
        size. The logits are upsampled first (as the loss sees them), then decoded."""
        return self.leaf_scores(super().predict_by_feat(node_logits, batch_img_metas))


@MODELS.register_module()
class HieraSepASPPHead(HieraHeadMixin, DepthwiseSeparableASPPHead):
    """HSSN head on DeepLabV3+ (depthwise-separable ASPP with a low-level decoder)."""


@MODELS.register_module()
class HieraFCNHead(HieraHeadMixin, FCNHead):
    """HSSN head on FCN."""


@MODELS.register_module()
class HieraUPerHead(HieraHeadMixin, UPerHead):
    """HSSN head on UPerNet."""

"""Softmax cross-entropy at every level of a class hierarchy, on HSSN node logits."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS

from hieraseg.hierarchy import HierarchyLike, build_hierarchy
from .checks import check_ignore_index, check_weight
from .class_weight import ClassWeightLike, leaf_pixel_weight, load_class_weight, weight_total


@MODELS.register_module()
class HieraCrossEntropyLoss(nn.Module):
    """One softmax cross-entropy per hierarchy level, on that level's node logits.

    For level ``l`` the logits are the level's ``C_l`` channels of the ``[B, V, H, W]``
    node logits and the targets are the leaf labels mapped to level ``l``; each level's CE
    is the mean over valid pixels, and the loss is
    ``loss_weight * sum_l level_weights[l] * CE_l``. With ``class_weight`` (one weight
    ``w_c`` per leaf), each level's CE is the weighted mean
    ``CE_l = sum_i w_{y_i} ce_l(i) / sum_i w_{y_i}`` over the valid pixels ``i`` (leaf
    label ``y_i``): a pixel counts with its leaf's weight at every level; at the leaf level
    this is ``F.cross_entropy(weight=class_weight)``. The public HSSN code adds such terms
    to the tree-min loss (Cityscapes: the leaf and the top level). Softmax CE makes the
    nodes of a level compete, which the per-node sigmoids of the tree-min loss do not.

    Args:
        hierarchy: the class hierarchy (filled in by the HSSN head).
        level_weights (Sequence[float], optional): one weight per level, finest first;
            default 1 for every level. A weight of 0 leaves that level out.
        loss_weight (float): factor on the whole loss. Default 1.
        ignore_index (int): label ignored at every level. Default 255.
        class_weight (optional): one weight per leaf (a list in label order, a
            ``{leaf name: weight}`` dict, or a ``.npy`` / ``.json`` / ``.yaml`` file holding
            either); default None, every pixel counts 1
            (:func:`~hieraseg.models.losses.class_weight.load_class_weight`).
        loss_name (str): key in the loss dict. Default ``'loss_hiera_ce'``.

    Call: ``loss(logits [B, V, H, W], leaf_labels [B, H, W], weight=None,
    ignore_index=None)`` -> scalar. ``weight`` is not supported (as mmseg's CE with
    ``avg_non_ignore``, pixels count equally).
    """

    def __init__(self,
                 hierarchy: HierarchyLike,
                 level_weights: Optional[Sequence[float]] = None,
                 loss_weight: float = 1.0,
                 ignore_index: int = 255,
                 class_weight: ClassWeightLike = None,
                 loss_name: str = 'loss_hiera_ce'):
        super().__init__()
        self.hierarchy = build_hierarchy(hierarchy)
        if level_weights is None:
            level_weights = [1.0] * self.hierarchy.num_levels
        if isinstance(level_weights, (str, bytes)) or not isinstance(level_weights, Sequence) \
                or len(level_weights) != self.hierarchy.num_levels:
            raise ValueError(f'HieraCrossEntropyLoss: level_weights must list one weight per '
                             f'level ({self.hierarchy.num_levels}: '
                             f'{list(self.hierarchy.level_names)}), got {level_weights!r}')
        self.level_weights = [
            check_weight(w, f'HieraCrossEntropyLoss: level_weights[{i}]')
            for i, w in enumerate(level_weights)
        ]
        self.loss_weight = check_weight(loss_weight, 'HieraCrossEntropyLoss: loss_weight')
        check_ignore_index(self.hierarchy, ignore_index, 'HieraCrossEntropyLoss')
        self.ignore_index = int(ignore_index)
        self._loss_name = loss_name
        self.register_buffer('leaf_to_level', self.hierarchy.leaf_to_level.clone(),
                             persistent=False)
        self.register_buffer(
            'class_weight',
            load_class_weight(class_weight, self.hierarchy, 'HieraCrossEntropyLoss'),
            persistent=False)

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, logits: torch.Tensor, leaf_labels: torch.Tensor,
                weight: Optional[torch.Tensor] = None, ignore_index: Optional[int] = None,
                **kwargs) -> torch.Tensor:
        if weight is not None:
            raise ValueError('HieraCrossEntropyLoss does not take per-pixel weights')
        hierarchy = self.hierarchy
        ignore_index = self.ignore_index if ignore_index is None else int(ignore_index)
        hierarchy.check_num_nodes(logits.shape[1], 'the logits given to HieraCrossEntropyLoss')
        hierarchy.check_leaf_labels(leaf_labels, ignore_index, 'HieraCrossEntropyLoss')
        valid = leaf_labels != ignore_index
        if not bool(valid.any()):
            return logits.sum() * 0
        safe_labels = torch.where(valid, leaf_labels, torch.zeros_like(leaf_labels)).long()
        pixel_weight = None if self.class_weight is None else leaf_pixel_weight(
            self.class_weight, safe_labels, valid, torch.float32)  # [B, H, W]
        total = logits.new_zeros(())
        for level, level_weight in enumerate(self.level_weights):
            if level_weight == 0:
                continue
            targets = torch.where(valid, self.leaf_to_level[level][safe_labels],
                                  torch.full_like(safe_labels, ignore_index))
            level_logits = logits[:, hierarchy.level_slice(level)].float()
            total = total + level_weight * self._level_ce(level_logits, targets,
                                                          pixel_weight, ignore_index)
        return self.loss_weight * total

    @staticmethod
    def _level_ce(level_logits: torch.Tensor, targets: torch.Tensor,
                  pixel_weight: Optional[torch.Tensor], ignore_index: int) -> torch.Tensor:
        """One level's CE: ``level_logits [B, C_l, H, W]`` against ``targets [B, H, W]``
        (level ids or ``ignore_index``); the mean over the valid pixels, weighted by
        ``pixel_weight [B, H, W]`` (0 where ignored) when given."""
        if pixel_weight is None:
            return F.cross_entropy(level_logits, targets, ignore_index=ignore_index)
        per_pixel = F.cross_entropy(level_logits, targets, ignore_index=ignore_index,
                                    reduction='none')  # [B, H, W], 0 where ignored
        return (per_pixel * pixel_weight).sum() / weight_total(pixel_weight)

    def extra_repr(self) -> str:
        weights = None if self.class_weight is None else self.class_weight.tolist()
        return (f'hierarchy={self.hierarchy!r}, level_weights={self.level_weights}, '
                f'loss_weight={self.loss_weight}, class_weight={weights}')

"""Per-node sigmoid losses without the tree constraint: the BCE and Focal rows of HSSN's
loss ablation (the baselines that tree-min improves on)."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS

from hieraseg.hierarchy import HierarchyLike, build_hierarchy
from .checks import check_gamma, check_ignore_index, check_reduction_mode, check_weight


@MODELS.register_module()
class NodeSigmoidLoss(nn.Module):
    """Binary cross-entropy (``gamma=0``) or focal loss (``gamma>0``) on every node's own
    sigmoid score ``s_v``, each node an independent binary problem: target 1 for the nodes
    on the pixel's root-to-leaf path, 0 elsewhere. Per pixel and node:
    ``-l_v (1 - s_v)^gamma log s_v - (1 - l_v) s_v^gamma log(1 - s_v)``. That is the
    tree-min loss with ``p_v = n_v = s_v``, so the two differ only by the hierarchy
    constraint. Same arguments, shapes and reductions as :class:`TreeMinLoss`
    (``loss_name`` default ``'loss_node_sigmoid'``).
    """

    def __init__(self,
                 hierarchy: HierarchyLike,
                 gamma: float = 0.0,
                 loss_weight: float = 1.0,
                 ignore_index: int = 255,
                 reduction_mode: str = 'level_mean',
                 loss_name: str = 'loss_node_sigmoid'):
        super().__init__()
        self.hierarchy = build_hierarchy(hierarchy)
        self.gamma = check_gamma(gamma, 'NodeSigmoidLoss')
        check_reduction_mode(reduction_mode, 'NodeSigmoidLoss')
        self.loss_weight = check_weight(loss_weight, 'NodeSigmoidLoss: loss_weight')
        check_ignore_index(self.hierarchy, ignore_index, 'NodeSigmoidLoss')
        self.ignore_index = int(ignore_index)
        self.reduction_mode = reduction_mode
        self._loss_name = loss_name
        self.register_buffer('leaf_to_node', self.hierarchy.leaf_to_node.clone(),
                             persistent=False)
        node_factor = torch.ones(self.hierarchy.num_nodes)
        if reduction_mode == 'level_mean':
            for level, size in enumerate(self.hierarchy.level_sizes):
                node_factor[self.hierarchy.level_slice(level)] = 1.0 / size
        self.register_buffer('node_factor', node_factor, persistent=False)

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, logits: torch.Tensor, leaf_labels: torch.Tensor,
                weight: Optional[torch.Tensor] = None, ignore_index: Optional[int] = None,
                **kwargs) -> torch.Tensor:
        """logits ``[B, V, H, W]``, leaf_labels ``[B, H, W]`` -> scalar."""
        ignore_index = self.ignore_index if ignore_index is None else int(ignore_index)
        self.hierarchy.check_num_nodes(logits.shape[1], 'the logits given to NodeSigmoidLoss')
        self.hierarchy.check_leaf_labels(leaf_labels, ignore_index, 'NodeSigmoidLoss')
        valid = leaf_labels != ignore_index
        num_valid = int(valid.sum())
        if num_valid == 0:
            return logits.sum() * 0
        logits = logits.float()
        safe_labels = torch.where(valid, leaf_labels, torch.zeros_like(leaf_labels)).long()
        path_nodes = self.leaf_to_node[:, safe_labels].permute(1, 0, 2, 3)  # [B, L, H, W]
        targets = torch.zeros_like(logits).scatter_(1, path_nodes, 1.0)
        terms = F.binary_cross_entropy_with_logits(logits, targets, reduction='none')
        if self.gamma > 0:
            scores = logits.sigmoid()
            # (1 - s) for positives, s for negatives
            miss = torch.where(targets > 0, 1 - scores, scores)
            terms = terms * miss.pow(self.gamma)
        pixel_weight = valid.float()
        if weight is not None:
            pixel_weight = pixel_weight * weight.float()
        per_pixel = (terms * self.node_factor.view(1, -1, 1, 1)).sum(1)
        return self.loss_weight * (per_pixel * pixel_weight).sum() / num_valid

    def extra_repr(self) -> str:
        return (f'hierarchy={self.hierarchy!r}, gamma={self.gamma}, '
                f'reduction_mode={self.reduction_mode!r}, loss_weight={self.loss_weight}')

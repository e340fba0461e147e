"""Tree-min loss of HSSN (Deep Hierarchical Semantic Segmentation, CVPR 2022), plain or focal."""
import math
import numbers
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd.function import once_differentiable
from mmseg.registry import MODELS

from hieraseg.hierarchy import HierarchyError, HierarchyLike, build_hierarchy

REDUCTION_MODES = ('level_mean', 'node_sum')


def check_ignore_index(hierarchy, ignore_index, what: str):
    if not isinstance(ignore_index, numbers.Integral) or isinstance(ignore_index, bool):
        raise ValueError(f'{what}: ignore_index must be an int, got {ignore_index!r}')
    if 0 <= ignore_index < hierarchy.num_leaves:
        raise ValueError(f'{what}: ignore_index {ignore_index} is a leaf class id of the '
                         f'hierarchy {hierarchy.name!r} (0..{hierarchy.num_leaves - 1})')


class FocalBinaryNLL(torch.autograd.Function):
    """Element-wise ``-log sigmoid(x) * sigmoid(-x) ** gamma`` for
    ``x = where(on_path, ancestor_min, -descendant_max)``, with a hand-written gradient
    ``dL/dx = -sigmoid(-x) ** gamma * (sigmoid(-x) + gamma * softplus(-x) * sigmoid(x))``.

    The loss evaluates this on every node of every pixel at full resolution; written with
    autograd it costs several transcendental passes forward and backward, here one softplus
    and one sigmoid, and the selection between the two branches is done in the same pass.
    ``softplus(-x) = -log sigmoid(x)`` keeps it finite for any finite x.
    """

    @staticmethod
    def forward(ctx, on_path: torch.Tensor, ancestor_min: torch.Tensor,
                descendant_max: torch.Tensor, gamma: float) -> torch.Tensor:
        x = torch.where(on_path, ancestor_min, descendant_max.neg())
        nll = F.softplus(-x)  # -log sigmoid(x)
        q = torch.sigmoid(-x)  # sigmoid(-x) = 1 - sigmoid(x)
        ctx.save_for_backward(on_path, nll, q)
        ctx.gamma = gamma
        return nll * q.pow(gamma) if gamma != 0 else nll

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):
        on_path, nll, q = ctx.saved_tensors
        gamma = ctx.gamma
        if gamma == 0:
            grad_x = -grad * q
        else:
            grad_x = -grad * q.pow(gamma) * (q + gamma * nll * (1 - q))
        zero = grad_x.new_zeros(())
        # x = a on the path, -d elsewhere
        return (None, torch.where(on_path, grad_x, zero), torch.where(on_path, zero, -grad_x),
                None)


@MODELS.register_module()
class TreeMinLoss(nn.Module):
    """Tree-min loss (TM, ``gamma=0``) and focal tree-min loss (FTM, ``gamma>0``).

    With sigmoid scores ``s_u = sigmoid(logit_u)``, every node ``v`` gets

    - a positive-branch score ``p_v = min_{u in A_v} s_u`` (``A_v``: v and its ancestors),
      used where v lies on the pixel's root-to-leaf path (``l_v = 1``);
    - a negative-branch score ``n_v = max_{u in C_v} s_u`` (``C_v``: v and its descendants),
      used elsewhere (``l_v = 0``);

    and the per-pixel, per-node loss is
    ``-l_v (1 - p_v)^gamma log p_v - (1 - l_v) n_v^gamma log(1 - n_v)``.

    Since sigmoid is monotone, ``p_v = sigmoid(min of the ancestors' logits)`` and
    ``n_v = sigmoid(max of the descendants' logits)``; both extrema are propagated level by
    level (top-down min along parent links, bottom-up max grouped by parent), which needs
    O(V * H * W) memory however wide the tree is, and the logs come from ``softplus`` so
    logits of any finite size give finite losses and gradients.

    Args:
        hierarchy: the class hierarchy (anything :func:`build_hierarchy` takes).
        gamma (float): focal exponent; 0 gives the plain tree-min loss. Default 2.
        loss_weight (float): factor on the loss. Default 1.
        ignore_index (int): label of pixels that are ignored at every level. Default 255.
        reduction_mode (str): how the per-pixel, per-node terms are averaged.

            - ``'level_mean'`` (default, as the public HSSN code): for each level, the mean
              over valid pixels and over that level's nodes; these means are summed over
              levels.
            - ``'node_sum'`` (the paper's formula): the mean over valid pixels of the sum over
              all V nodes.
        loss_name (str): key of the loss in the loss dict; must start with ``loss_`` to be
            back-propagated. Default ``'loss_tree_min'``.

    Call: ``loss(logits, leaf_labels, weight=None, ignore_index=None)``

    - ``logits``: [B, V, H, W], channels in the hierarchy's node layout (leaves first).
    - ``leaf_labels``: [B, H, W] integer leaf ids or ``ignore_index``; never modified.
    - ``weight``: optional per-pixel weights, broadcastable to [B, H, W]; the weighted sum is
      still divided by the number of valid pixels.
    - ``ignore_index``: overrides the constructor's value when given.

    Returns a scalar (float32, or float64 for float64 logits). A batch without a valid pixel
    gives a zero that is still part of the graph.
    """

    def __init__(self,
                 hierarchy: HierarchyLike,
                 gamma: float = 2.0,
                 loss_weight: float = 1.0,
                 ignore_index: int = 255,
                 reduction_mode: str = 'level_mean',
                 loss_name: str = 'loss_tree_min'):
        super().__init__()
        self.hierarchy = build_hierarchy(hierarchy)
        if not isinstance(gamma, numbers.Real) or not math.isfinite(gamma) or gamma < 0:
            raise ValueError(f'TreeMinLoss: gamma must be a finite number >= 0, got {gamma!r}')
        if not isinstance(loss_weight, numbers.Real) or not math.isfinite(loss_weight):
            raise ValueError(f'TreeMinLoss: loss_weight must be a finite number, got '
                             f'{loss_weight!r}')
        if reduction_mode not in REDUCTION_MODES:
            raise ValueError(f'TreeMinLoss: reduction_mode must be one of {REDUCTION_MODES}, '
                             f'got {reduction_mode!r}')
        if not isinstance(loss_name, str) or not loss_name:
            raise ValueError(f'TreeMinLoss: loss_name must be a non-empty str, got {loss_name!r}')
        check_ignore_index(self.hierarchy, ignore_index, 'TreeMinLoss')
        self.gamma = float(gamma)
        self.loss_weight = float(loss_weight)
        self.ignore_index = int(ignore_index)
        self.reduction_mode = reduction_mode
        self._loss_name = loss_name

        hierarchy = self.hierarchy
        # leaf_to_level[l, c]: index within level l of leaf c's ancestor.
        self.register_buffer('leaf_to_level', hierarchy.leaf_to_level.clone(), persistent=False)
        # parent_in_level_{l}[i]: index within level l + 1 of the parent of level-l node i.
        for level, parents in enumerate(hierarchy.parent_index):
            self.register_buffer(f'parent_in_level_{level}',
                                 parents - hierarchy.level_offsets[level + 1],
                                 persistent=False)

    @property
    def loss_name(self) -> str:
        """The key of this loss in the loss dict (mmseg convention)."""
        return self._loss_name

    def _parents_of_level(self, level: int) -> torch.Tensor:
        return getattr(self, f'parent_in_level_{level}')

    def branch_logits(self, logits: torch.Tensor):
        """Per level, the min logit over ancestors and the max logit over descendants.

        Args:
            logits: [B, V, H, W].

        Returns:
            (ancestor_min, descendant_max): two lists, one [B, C_l, H, W] tensor per level.
        """
        hierarchy = self.hierarchy
        per_level = [logits[:, hierarchy.level_slice(level)]
                     for level in range(hierarchy.num_levels)]

        ancestor_min = [None] * hierarchy.num_levels
        ancestor_min[-1] = per_level[-1]
        for level in range(hierarchy.num_levels - 2, -1, -1):
            parent_min = ancestor_min[level + 1].index_select(1, self._parents_of_level(level))
            ancestor_min[level] = torch.minimum(per_level[level], parent_min)

        descendant_max = [per_level[0]]
        for level in range(hierarchy.num_levels - 1):
            children = descendant_max[level]
            parents = self._parents_of_level(level).view(1, -1, 1, 1).expand_as(children)
            coarse = per_level[level + 1]
            # Each node's max over its children's subtrees (every node has a child), scattered
            # by parent: gathering the padded children table instead would hold
            # C_{l+1} x (most children) channels, e.g. 16 x 20 > V = 144 for Mapillary.
            children_max = coarse.new_zeros(coarse.shape).scatter_reduce(
                1, parents, children, reduce='amax', include_self=False)
            descendant_max.append(torch.maximum(coarse, children_max))
        return ancestor_min, descendant_max

    def forward(self,
                logits: torch.Tensor,
                leaf_labels: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                ignore_index: Optional[int] = None,
                **kwargs) -> torch.Tensor:
        """Computes the loss; see the class docstring for shapes."""
        hierarchy = self.hierarchy
        ignore_index = self.ignore_index if ignore_index is None else int(ignore_index)
        if logits.dim() != 4:
            raise ValueError(f'TreeMinLoss: logits must be [B, V, H, W], got shape '
                             f'{tuple(logits.shape)}')
        hierarchy.check_num_nodes(logits.shape[1], 'the logits given to TreeMinLoss')
        expected = (logits.shape[0], ) + tuple(logits.shape[2:])
        if tuple(leaf_labels.shape) != expected:
            raise ValueError(f'TreeMinLoss: labels must be [B, H, W] = {list(expected)} to match '
                             f'logits {list(logits.shape)}, got {list(leaf_labels.shape)}')
        hierarchy.check_leaf_labels(leaf_labels, ignore_index, 'TreeMinLoss')

        valid = leaf_labels != ignore_index
        num_valid = int(valid.sum())
        if num_valid == 0:
            return logits.sum() * 0
        safe_labels = torch.where(valid, leaf_labels, torch.zeros_like(leaf_labels)).long()

        # Half-precision logits are promoted: the focal factors underflow in float16.
        logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
        ancestor_min, descendant_max = self.branch_logits(logits)
        pixel_loss = logits.new_zeros(leaf_labels.shape)  # [B, H, W]
        for level in range(hierarchy.num_levels):
            size = hierarchy.level_sizes[level]
            level_labels = self.leaf_to_level[level][safe_labels]  # [B, H, W]
            node_ids = torch.arange(size, device=logits.device).view(1, -1, 1, 1)
            on_path = level_labels.unsqueeze(1) == node_ids  # [B, C_l, H, W]

            # On the path the term is about p_v = sigmoid(a), a the ancestors' min logit;
            # elsewhere about 1 - n_v = sigmoid(-d), d the descendants' max logit. With
            # x = a or -d both are -log sigmoid(x) * sigmoid(-x)^gamma.
            node_loss = FocalBinaryNLL.apply(on_path, ancestor_min[level],
                                             descendant_max[level], self.gamma)
            node_loss = node_loss.sum(1)  # [B, H, W]
            if self.reduction_mode == 'level_mean':
                node_loss = node_loss / size
            pixel_loss = pixel_loss + node_loss

        if weight is not None:
            pixel_loss = pixel_loss * weight.to(pixel_loss.dtype)
        pixel_loss = torch.where(valid, pixel_loss, torch.zeros_like(pixel_loss))
        loss = pixel_loss.sum() / num_valid
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return (f'hierarchy={self.hierarchy!r}, gamma={self.gamma}, '
                f'reduction_mode={self.reduction_mode!r}, loss_weight={self.loss_weight}, '
                f'ignore_index={self.ignore_index}')

"""Tree-min loss of HSSN (Deep Hierarchical Semantic Segmentation, CVPR 2022), plain or focal."""
from typing import Optional

import torch
import torch.nn as nn
from mmseg.registry import MODELS

from hieraseg.hierarchy import HierarchyLike, build_hierarchy
from .checks import check_gamma, check_ignore_index, check_reduction_mode, check_weight
from .class_weight import ClassWeightLike, leaf_pixel_weight, load_class_weight, weight_total
from .tree_min_kernel import TreeMinFunction


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
    ``n_v = sigmoid(max of the descendants' logits)``. The descendants' max is propagated
    bottom-up, grouped by parent (O(V * H * W) memory however wide the tree is); the
    ancestors' min is needed only on the path, one node per level and pixel. The logs come
    from ``softplus``, so logits of any finite size give finite losses and gradients. The
    loss and its gradient are computed together (:mod:`.tree_min_kernel`), which makes the
    loss several times cheaper than the same formula written with autograd.

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
        class_weight (optional): one weight per leaf (a list in label order, a
            ``{leaf name: weight}`` dict, or a ``.npy`` / ``.json`` / ``.yaml`` file holding
            either): every pixel's terms (all V nodes) are multiplied by its leaf's weight,
            and the sum is divided by the sum of the valid pixels' leaf weights instead of
            their number (a weighted mean; :mod:`.class_weight`). Default None: every pixel
            counts 1.
        loss_name (str): key of the loss in the loss dict; must start with ``loss_`` to be
            back-propagated. Default ``'loss_tree_min'``.

    Call: ``loss(logits, leaf_labels, weight=None, ignore_index=None)``

    - ``logits``: [B, V, H, W], channels in the hierarchy's node layout (leaves first).
    - ``leaf_labels``: [B, H, W] integer leaf ids or ``ignore_index``; never modified.
    - ``weight``: optional per-pixel weights, broadcastable to [B, H, W]; the weighted sum is
      still divided by the number of valid pixels (with ``class_weight``: multiplied by
      the class weights, divided by the sum of the class weights of the valid pixels).
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
                 class_weight: ClassWeightLike = None,
                 loss_name: str = 'loss_tree_min'):
        super().__init__()
        self.hierarchy = build_hierarchy(hierarchy)
        check_gamma(gamma, 'TreeMinLoss')
        check_weight(loss_weight, 'TreeMinLoss: loss_weight')
        check_reduction_mode(reduction_mode, 'TreeMinLoss')
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
        self.register_buffer('class_weight',
                             load_class_weight(class_weight, hierarchy, 'TreeMinLoss'),
                             persistent=False)
        # parent_in_level_{l}[i]: index within level l + 1 of the parent of level-l node i;
        # children_order_{l} / num_children_{l}: level l grouped by parent (the order is
        # kept only where it is not the identity).
        for level, parents in enumerate(hierarchy.parent_index):
            self.register_buffer(f'parent_in_level_{level}',
                                 parents - hierarchy.level_offsets[level + 1],
                                 persistent=False)
            order = hierarchy.children_order[level]
            grouped = torch.equal(order, torch.arange(len(order)))
            self.register_buffer(f'children_order_{level}', None if grouped else order.clone(),
                                 persistent=False)
            self.register_buffer(f'num_children_{level}', hierarchy.num_children[level].clone(),
                                 persistent=False)

    @property
    def loss_name(self) -> str:
        """The key of this loss in the loss dict (mmseg convention)."""
        return self._loss_name

    def _parents_of_level(self, level: int) -> torch.Tensor:
        return getattr(self, f'parent_in_level_{level}')

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
        # [B, L, H, W]: the index, within each level, of the pixel's path node
        path_index = self.leaf_to_level[:, safe_labels].permute(1, 0, 2, 3).contiguous()

        # Half-precision logits are promoted: the focal factors underflow in float16.
        logits = logits.to(torch.promote_types(logits.dtype, torch.float32)).contiguous()
        pixel_weight = leaf_pixel_weight(self.class_weight, safe_labels, valid, logits.dtype)
        total = num_valid if self.class_weight is None else weight_total(pixel_weight)
        if weight is not None:
            pixel_weight = pixel_weight * weight.to(logits.dtype)
        pixel_weight = (pixel_weight * (self.loss_weight / total)).unsqueeze(1)
        need_grad = torch.is_grad_enabled() and logits.requires_grad
        return TreeMinFunction.apply(logits, path_index, pixel_weight.contiguous(),
                                     self._kernel_tables(), self.gamma, need_grad)

    def _kernel_tables(self):
        hierarchy = self.hierarchy
        level_slices = [hierarchy.level_slice(level) for level in range(hierarchy.num_levels)]
        parents = [self._parents_of_level(level) for level in range(hierarchy.num_levels - 1)]
        groups = [(getattr(self, f'children_order_{level}'),
                   getattr(self, f'num_children_{level}'))
                  for level in range(hierarchy.num_levels - 1)]
        if self.reduction_mode == 'level_mean':
            factors = [1.0 / size for size in hierarchy.level_sizes]
        else:
            factors = [1.0] * hierarchy.num_levels
        return level_slices, parents, groups, factors

    def extra_repr(self) -> str:
        weights = None if self.class_weight is None else self.class_weight.tolist()
        return (f'hierarchy={self.hierarchy!r}, gamma={self.gamma}, '
                f'reduction_mode={self.reduction_mode!r}, loss_weight={self.loss_weight}, '
                f'ignore_index={self.ignore_index}, class_weight={weights}')

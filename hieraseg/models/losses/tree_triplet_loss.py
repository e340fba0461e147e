"""Tree-triplet loss of HSSN (Deep Hierarchical Semantic Segmentation, CVPR 2022)."""
import math
import numbers
from typing import NamedTuple, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmseg.registry import MODELS

from hieraseg.hierarchy import HierarchyError, HierarchyLike, build_hierarchy
from .checks import check_ignore_index, check_weight

RAMPS = ('cosine', None)


class Triplets(NamedTuple):
    """Sampled triplets as indices into the flattened pixels, each [T]."""
    anchor: torch.Tensor
    positive: torch.Tensor
    negative: torch.Tensor


@MODELS.register_module()
class TreeTripletLoss(nn.Module):
    """Tree-triplet loss (TT) on per-pixel embeddings.

    For each leaf class present (the anchor class), a triplet is an anchor pixel of that
    class, a positive pixel (another pixel of the same leaf or of a sibling leaf, i.e. one
    with the same level-1 parent) and a negative pixel (one whose leaf has a different
    level-1 ancestor). With the distance ``<x, y> = (1 - cos(x, y)) / 2`` its loss is
    ``relu(<a, pos> - <a, neg> + m)``, ``m = margin_eps + 0.5 * (psi(a, neg) - psi(a, pos))
    / (2 D)``, psi the tree distance between leaves and D the tree height. The loss is the
    mean over all sampled triplets of the batch, times the (ramped) weight.

    Sampling: a class whose triplet set (anchor x positive x negative, anchor != positive)
    has at most ``max_triplets_per_class`` elements contributes all of them; a larger one
    contributes ``max_triplets_per_class`` triplets drawn uniformly from it (with
    replacement), from a generator seeded with ``seed`` that advances every call. All
    classes are sampled at once, without a loop over classes or pixels. The generator's state
    is a buffer of the module (``generator_state``), so a run resumed from a checkpoint
    continues the sequence; every DDP rank uses the same seed on its own pixels.

    Weight: with ``ramp='cosine'`` the weight is
    ``loss_weight * (1 - cos(pi * iter / max_iters)) / 2``, rising from 0 to
    ``loss_weight`` over training. ``iter`` and ``max_iters`` are read from mmengine's current
    :class:`MessageHub`, where the runner's ``RuntimeInfoHook`` sets them before each *train*
    iteration only (validation does not advance them). Without them (no runner, e.g. a
    bare forward in a script) the final weight ``loss_weight`` is used. ``ramp=None`` always
    uses ``loss_weight``.

    Args:
        hierarchy: the class hierarchy (anything :func:`build_hierarchy` takes); it needs at
            least two levels.
        margin_eps (float): the constant part of the margin. Default 0.1.
        max_triplets_per_class (int): cap on the triplets of one anchor class. Default 200.
        loss_weight (float): the final weight. Default 0.5.
        ramp (str | None): ``'cosine'`` or None (constant weight). Default ``'cosine'``.
        ignore_index (int): label of ignored pixels. Default 255.
        seed (int): seed of the sampling generator. Default 0.
        loss_name (str): key in the loss dict. Default ``'loss_tree_triplet'``.

    Call: ``loss(embeddings, leaf_labels, ignore_index=None)``

    - ``embeddings``: [B, E, h, w], already L2-normalised per pixel (not re-normalised here).
    - ``leaf_labels``: [B, H, W] leaf ids or ``ignore_index``; nearest-downsampled to (h, w)
      into a new tensor, never modified.

    Returns a float32 scalar (float64 for float64 embeddings), computed in float32 under
    autocast too; without any triplet, zero times the embeddings' sum so that the
    embedding branch is still part of the graph (no unused parameters under DDP).
    """

    def __init__(self,
                 hierarchy: HierarchyLike,
                 margin_eps: float = 0.1,
                 max_triplets_per_class: int = 200,
                 loss_weight: float = 0.5,
                 ramp: Optional[str] = 'cosine',
                 ignore_index: int = 255,
                 seed: int = 0,
                 loss_name: str = 'loss_tree_triplet'):
        super().__init__()
        self.hierarchy = build_hierarchy(hierarchy)
        if self.hierarchy.num_levels < 2:
            raise HierarchyError(f'TreeTripletLoss: hierarchy {self.hierarchy.name!r} has one '
                                 f'level; positives and negatives need a level of parents')
        if not isinstance(margin_eps, numbers.Real) or not math.isfinite(margin_eps):
            raise ValueError(f'TreeTripletLoss: margin_eps must be a finite number, got '
                             f'{margin_eps!r}')
        if (not isinstance(max_triplets_per_class, numbers.Integral)
                or isinstance(max_triplets_per_class, bool) or max_triplets_per_class < 1):
            raise ValueError(f'TreeTripletLoss: max_triplets_per_class must be an int >= 1, '
                             f'got {max_triplets_per_class!r}')
        check_weight(loss_weight, 'TreeTripletLoss: loss_weight')
        if ramp not in RAMPS:
            raise ValueError(f'TreeTripletLoss: ramp must be one of {RAMPS}, got {ramp!r}')
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
            raise ValueError(f'TreeTripletLoss: seed must be an int, got {seed!r}')
        if not isinstance(loss_name, str) or not loss_name:
            raise ValueError(f'TreeTripletLoss: loss_name must be a non-empty str, got '
                             f'{loss_name!r}')
        check_ignore_index(self.hierarchy, ignore_index, 'TreeTripletLoss')
        self.margin_eps = float(margin_eps)
        self.max_triplets_per_class = int(max_triplets_per_class)
        self.loss_weight = float(loss_weight)
        self.ramp = ramp
        self.ignore_index = int(ignore_index)
        self.seed = int(seed)
        self._loss_name = loss_name
        # The state of a CPU generator (the same draws on any device), advanced by every call.
        # A persistent buffer: checkpoints save it and resumed runs continue the draws. DDP
        # ranks hold equal states: same seed, one draw per call.
        self.register_buffer('generator_state',
                             torch.Generator().manual_seed(self.seed).get_state())

        hierarchy = self.hierarchy
        # leaf_parent[c]: index within level 1 of leaf c's parent.
        self.register_buffer('leaf_parent', hierarchy.leaf_to_level[1].clone(), persistent=False)
        # leaf_distance[a, b]: psi(a, b), edges between leaves a and b.
        self.register_buffer('leaf_distance', hierarchy.leaf_distance.clone(), persistent=False)

    @property
    def loss_name(self) -> str:
        """The key of this loss in the loss dict (mmseg convention)."""
        return self._loss_name

    def current_weight(self) -> float:
        """The loss weight at the runner's current train iteration (see the class doc)."""
        if self.ramp is None:
            return self.loss_weight
        hub = MessageHub.get_current_instance()
        iteration, max_iters = hub.get_info('iter'), hub.get_info('max_iters')
        if iteration is None or not max_iters:
            return self.loss_weight
        progress = min(max(float(iteration) / float(max_iters), 0.0), 1.0)
        return self.loss_weight * (1.0 - math.cos(math.pi * progress)) / 2.0

    def sample_triplets(self, labels: torch.Tensor, ignore_index: Optional[int] = None) -> Triplets:
        """Samples triplets for every anchor class at once.

        Args:
            labels: [N] leaf ids or ``ignore_index`` of the flattened pixels.

        Returns:
            :class:`Triplets` of pixel indices into ``labels``, each [T].
        """
        ignore_index = self.ignore_index if ignore_index is None else ignore_index
        num_leaves = self.hierarchy.num_leaves
        cap = self.max_triplets_per_class
        device = labels.device
        valid = labels != ignore_index
        safe = torch.where(valid, labels, torch.zeros_like(labels)).long()

        # Sorting the pixels by (parent, leaf) makes every sibling group, and every leaf inside
        # it, a contiguous block of the order; ignored pixels go last. The k-th anchor,
        # positive or negative of a class is then a position computed from block bounds.
        parent = self.leaf_parent
        key = torch.where(valid, parent[safe] * num_leaves + safe,
                          torch.full_like(safe, self.hierarchy.level_sizes[1] * num_leaves))
        sorted_key, order = torch.sort(key, stable=True)
        leaf_key = parent * num_leaves + torch.arange(num_leaves, device=device)
        leaf_start = torch.searchsorted(sorted_key, leaf_key)
        num_anchor = torch.searchsorted(sorted_key, leaf_key, right=True) - leaf_start
        group_start = torch.searchsorted(sorted_key, parent * num_leaves)
        group_count = torch.searchsorted(sorted_key, (parent + 1) * num_leaves) - group_start
        num_pos = (group_count - 1).clamp_min(0)  # the anchor itself is not its positive
        num_neg = valid.sum() - group_count

        # All triplets of classes with at most `cap` of them, else `cap` random ones.
        total = num_anchor.double() * num_pos.double() * num_neg.double()  # [C0], no overflow
        take_all = total <= cap
        num_triplets = torch.where(take_all, total.long(), torch.full_like(num_anchor, cap))

        slot = torch.arange(cap, device=device).view(1, -1)  # [1, cap]
        per_anchor = (num_pos * num_neg).clamp_min(1).view(-1, 1)
        neg_radix = num_neg.clamp_min(1).view(-1, 1)
        enum_anchor = slot // per_anchor
        enum_pos = (slot % per_anchor) // neg_radix
        enum_neg = slot % neg_radix

        generator = torch.Generator()
        generator.set_state(self.generator_state.cpu())
        uniform = torch.rand((3, num_leaves, cap), generator=generator,
                             dtype=torch.float64).to(device)
        self.generator_state.copy_(generator.get_state())

        def draw(u, count):  # uniform integers in [0, count) per class row
            count = count.view(-1, 1)
            return torch.minimum((u * count).long(), (count - 1).clamp_min(0))

        take_all = take_all.view(-1, 1)
        anchor_rank = torch.where(take_all, enum_anchor, draw(uniform[0], num_anchor))
        pos_rank = torch.where(take_all, enum_pos, draw(uniform[1], num_pos))
        neg_rank = torch.where(take_all, enum_neg, draw(uniform[2], num_neg))

        group_start, group_count = group_start.view(-1, 1), group_count.view(-1, 1)
        anchor_at = leaf_start.view(-1, 1) + anchor_rank
        pos_at = group_start + pos_rank
        pos_at = pos_at + (pos_at >= anchor_at).long()  # skip the anchor's own position
        neg_at = neg_rank + (neg_rank >= group_start).long() * group_count  # skip the group

        keep = slot < num_triplets.view(-1, 1)  # [C0, cap]
        return Triplets(order[anchor_at[keep]], order[pos_at[keep]], order[neg_at[keep]])

    def forward(self,
                embeddings: torch.Tensor,
                leaf_labels: torch.Tensor,
                ignore_index: Optional[int] = None,
                **kwargs) -> torch.Tensor:
        """Computes the loss; see the class docstring for shapes."""
        ignore_index = self.ignore_index if ignore_index is None else int(ignore_index)
        if embeddings.dim() != 4:
            raise ValueError(f'TreeTripletLoss: embeddings must be [B, E, h, w], got shape '
                             f'{tuple(embeddings.shape)}')
        if leaf_labels.dim() != 3 or leaf_labels.shape[0] != embeddings.shape[0]:
            raise ValueError(f'TreeTripletLoss: labels must be [B, H, W] with B = '
                             f'{embeddings.shape[0]}, got {list(leaf_labels.shape)}')
        self.hierarchy.check_leaf_labels(leaf_labels, ignore_index, 'TreeTripletLoss')

        size = tuple(embeddings.shape[2:])
        labels = F.interpolate(leaf_labels.unsqueeze(1).float(), size=size, mode='nearest')
        labels = labels.squeeze(1).long().reshape(-1)  # [N = B * h * w]
        features = embeddings.permute(0, 2, 3, 1).reshape(labels.numel(), -1)  # [N, E]
        features = features.to(torch.promote_types(features.dtype, torch.float32))

        triplets = self.sample_triplets(labels, ignore_index)
        if triplets.anchor.numel() == 0:
            return features.sum() * 0  # float32 like the loss, and still in the graph

        # Float32 whatever autocast would choose (``--amp``, CPU bf16): the distances of
        # near-identical unit vectors cancel in half precision. The gradient reaches the
        # embeddings in their own dtype through the ``to`` above.
        with torch.autocast(device_type=features.device.type, enabled=False):
            return self.current_weight() * self._triplet_mean(features, labels, triplets)

    def _triplet_mean(self, features: torch.Tensor, labels: torch.Tensor,
                      triplets: Triplets) -> torch.Tensor:
        # index_select, not features[index]: the latter's backward (index_put with
        # accumulation) sums repeated pixels in a varying order on the CPU.
        anchor = features.index_select(0, triplets.anchor)
        d_pos = (1 - (anchor * features.index_select(0, triplets.positive)).sum(1)) / 2
        d_neg = (1 - (anchor * features.index_select(0, triplets.negative)).sum(1)) / 2
        anchor_leaf = labels[triplets.anchor]
        psi_pos = self.leaf_distance[anchor_leaf, labels[triplets.positive]].to(d_pos.dtype)
        psi_neg = self.leaf_distance[anchor_leaf, labels[triplets.negative]].to(d_pos.dtype)
        margin = self.margin_eps + 0.5 * (psi_neg - psi_pos) / (2 * self.hierarchy.height)
        return F.relu(d_pos - d_neg + margin).mean()

    def extra_repr(self) -> str:
        return (f'hierarchy={self.hierarchy!r}, margin_eps={self.margin_eps}, '
                f'max_triplets_per_class={self.max_triplets_per_class}, '
                f'loss_weight={self.loss_weight}, ramp={self.ramp!r}, seed={self.seed}')

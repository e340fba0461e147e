"""One DNC clustering step over all classes at once.

similarities (features of class c against class c's K sub-centroids, one batched matrix
product) -> batched Sinkhorn (equipartition) -> hard assignment (argmax) -> momentum
update of every sub-centroid that received at least one correctly classified feature:
``p <- normalise(mu * p + (1 - mu) * normalise(mean of its assigned correct features))``.

Two ways to get the sums of the assigned features:

- :func:`cluster_sub_centroids` (stateless) reads every feature a second time
  (``one-hot^T @ features``);
- :func:`cluster_memory` keeps the sums in the :class:`FeatureMemory` between steps and
  only adds or removes the features whose assignment changed (plus those enqueued or
  overwritten since). The assignments are the same; the step then costs about one read
  of the memory (the similarity product) instead of two.

``cluster_memory(..., rescue=...)`` moves the sub-centroids of the classes it is given
with all their features (not only the correctly classified ones, of which a dead class has
none; issue 10). The other keep-alive helpers (data-driven placement, re-seeding) are in
:mod:`.sub_centroid_seeding`; the rule that decides when to use them is
:class:`~.clustering_policy.SubCentroidClusteringPolicy`.
"""
from typing import NamedTuple, Optional

import torch
from torch import Tensor

from .feature_memory import FeatureMemory
from .sinkhorn import check_sinkhorn_args, sinkhorn_log_knn

# Rebuild the sums from scratch when more than 1 / REBUILD_FRACTION of the slots changed.
REBUILD_FRACTION = 4

__all__ = [
    'ClusteringResult', 'assign_sub_centroids', 'assign_from_similarities',
    'cluster_sub_centroids', 'cluster_memory', 'momentum_update_centroids'
]


class ClusteringResult(NamedTuple):
    """Outputs of :func:`cluster_sub_centroids` and :func:`cluster_memory`.

    centroids: ``[C, K, D]`` updated unit sub-centroids (float32).
    assignments: ``[C, N]`` long hard assignment in ``[0, K)``, -1 on invalid slots.
    counts: ``[C, K]`` long, correctly classified features assigned to each sub-centroid
        (the ones that moved it).
    updated: ``[C, K]`` bool, ``counts > 0``.
    empty_classes: ``[C]`` bool, classes that had no valid feature at all.
    """
    centroids: Tensor
    assignments: Tensor
    counts: Tensor
    updated: Tensor
    empty_classes: Tensor


def _check(centroids: Tensor, features: Tensor, momentum: float, epsilon: float,
           iters: int) -> None:
    if centroids.dim() != 3 or features.dim() != 3 or \
            features.shape[0] != centroids.shape[0] or \
            features.shape[2] != centroids.shape[2]:
        raise ValueError(f'centroids [C, K, D] and features [C, N, D] do not match: '
                         f'{tuple(centroids.shape)} vs {tuple(features.shape)}')
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f'momentum must lie in [0, 1], got {momentum}')
    check_sinkhorn_args(epsilon, iters)


def momentum_update_centroids(centroids: Tensor, sums: Tensor, counts: Tensor,
                              momentum: float) -> Tensor:
    """Momentum update of sub-centroids from the sums of their assigned features.

    Args:
        centroids (Tensor): ``[C, K, D]`` unit vectors.
        sums (Tensor): ``[C, K, D]`` sums of the features assigned to each sub-centroid
            (normalising a sum or a mean gives the same direction).
        counts (Tensor): ``[C, K]``; sub-centroids with 0 are returned unchanged.
        momentum (float): mu in ``[0, 1]``.

    Returns:
        Tensor: ``[C, K, D]`` float32 unit vectors.
    """
    centroids = centroids.float()
    # normalise(mu * p + (1 - mu) * normalise(sums)), with as few passes over [C, K, D]
    # as possible (this runs every iteration on up to C * K * D floats).
    moved = sums.to(torch.float32, copy=True)
    moved.mul_((1.0 - momentum) / moved.norm(dim=-1, keepdim=True).clamp_(min=1e-12))
    moved.add_(centroids, alpha=momentum)
    moved.div_(moved.norm(dim=-1, keepdim=True).clamp_(min=1e-12))
    keep = counts == 0
    if bool(keep.any()):
        moved[keep] = centroids[keep]
    return moved


@torch.no_grad()
def assign_sub_centroids(centroids: Tensor, features: Tensor, valid: Tensor,
                         epsilon: float = 0.05, iters: int = 3) -> Tensor:
    """Hard Sinkhorn assignment of every feature to one of its class's sub-centroids.

    Args:
        centroids (Tensor): ``[C, K, D]``.
        features (Tensor): ``[C, N, D]`` grouped by class, padded.
        valid (Tensor): ``[C, N]`` bool.

    Returns:
        Tensor: ``[C, N]`` long in ``[0, K)``, -1 where not valid.
    """
    if features.dtype != torch.float32 and features.device.type != 'cuda':
        features = features.float()  # half matmuls are slow (or missing) on the CPU
    # [C, K, N]: features last, the layout the Sinkhorn reductions want.
    sims_t = torch.bmm(centroids.to(features.dtype), features.transpose(1, 2))
    return assign_from_similarities(sims_t, valid, epsilon, iters)


@torch.no_grad()
def assign_from_similarities(sims_t: Tensor, valid: Tensor, epsilon: float = 0.05,
                             iters: int = 3) -> Tensor:
    """:func:`assign_sub_centroids` from similarities ``[C, K, N]`` already computed
    (features last); returns ``[C, N]`` long in ``[0, K)``, -1 where ``valid`` is False."""
    log_q = sinkhorn_log_knn(sims_t, valid, epsilon=epsilon, iters=iters)
    # argmax over the K rows, as K - 1 comparisons of contiguous [C, N] slices (a strided
    # argmax over a tiny dimension is several times slower); ties go to the lower k.
    best, assign = log_q[:, 0], torch.zeros_like(valid, dtype=torch.long)
    for k in range(1, log_q.shape[1]):
        better = log_q[:, k] > best
        best = torch.where(better, log_q[:, k], best)
        assign.masked_fill_(better, k)
    return assign.masked_fill_(~valid, -1)


def _counts(assign: Tensor, use: Tensor, num_k: int) -> Tensor:
    ks = torch.arange(num_k, device=assign.device).view(1, num_k, 1)
    return ((assign.unsqueeze(1) == ks) & use.unsqueeze(1)).sum(dim=2)  # [C, K]


@torch.no_grad()
def cluster_sub_centroids(centroids: Tensor,
                          features: Tensor,
                          valid: Optional[Tensor] = None,
                          correct: Optional[Tensor] = None,
                          momentum: float = 0.999,
                          epsilon: float = 0.05,
                          iters: int = 3) -> ClusteringResult:
    """Cluster every class's features into its K sub-centroids and move them (stateless).

    Args:
        centroids (Tensor): ``[C, K, D]`` current unit sub-centroids.
        features (Tensor): ``[C, N, D]`` features grouped by class and padded (the
            :class:`FeatureMemory` layout), L2-normalised. fp16/bf16 storage is read
            in that dtype by the similarity product on CUDA, as float32 on the CPU.
        valid (Tensor, optional): ``[C, N]`` bool, real (non-padding) entries.
        correct (Tensor, optional): ``[C, N]`` bool, entries whose feature was classified
            correctly; only those move sub-centroids. None means all.
        momentum, epsilon, iters: see the module docstring and :func:`batched_sinkhorn`.

    Returns:
        ClusteringResult
    """
    _check(centroids, features, momentum, epsilon, iters)
    num_classes, num_feats, _ = features.shape
    num_k = centroids.shape[1]
    if valid is None:
        valid = torch.ones(num_classes, num_feats, dtype=torch.bool, device=features.device)
    use = valid if correct is None else valid & correct
    assign = assign_sub_centroids(centroids, features, valid, epsilon, iters)

    ks = torch.arange(num_k, device=assign.device).view(1, num_k, 1)
    members = (assign.unsqueeze(1) == ks) & use.unsqueeze(1)  # [C, K, N]
    if features.dtype != torch.float32 and features.device.type != 'cuda':
        features = features.float()
    sums = torch.bmm(members.to(features.dtype), features)  # [C, K, D]
    counts = members.sum(dim=2)
    return ClusteringResult(
        centroids=momentum_update_centroids(centroids, sums, counts, momentum),
        assignments=assign,
        counts=counts,
        updated=counts > 0,
        empty_classes=~valid.any(dim=1))


@torch.no_grad()
def cluster_memory(centroids: Tensor,
                   memory: FeatureMemory,
                   momentum: float = 0.999,
                   epsilon: float = 0.05,
                   iters: int = 3,
                   rescue: Optional[Tensor] = None) -> ClusteringResult:
    """:func:`cluster_sub_centroids` on a :class:`FeatureMemory`, with incremental sums.

    The memory (built with ``num_sub_centroids``) keeps every slot's last assignment and
    the float64 sums of the correctly classified features per (class, sub-centroid);
    this step adds or removes only the features whose assignment changed, then records
    the new assignments (when more than a quarter of the slots changed, e.g. on the
    first step, it rebuilds the sums with one product instead). Assignments and counts
    are exactly those of :func:`cluster_sub_centroids`; the sums agree to float rounding.

    ``rescue`` (``[C]`` bool, optional) names classes whose sub-centroids move with all
    their assigned features, correctly classified or not (their sums are computed apart;
    the memory's incremental sums keep counting only the correct ones).

    Returns:
        ClusteringResult
    """
    if memory.num_sub_centroids is None:
        raise ValueError('cluster_memory needs a FeatureMemory built with num_sub_centroids')
    if memory.num_sub_centroids != centroids.shape[1]:
        raise ValueError(f'the memory tracks {memory.num_sub_centroids} sub-centroids per '
                         f'class, the centroids have {centroids.shape[1]}')
    _check(centroids, memory.features, momentum, epsilon, iters)
    valid = memory.valid
    use = valid & memory.correct
    assign = assign_sub_centroids(centroids, memory.features, valid, epsilon, iters)

    old = memory.assignment
    changed = use & (assign != old)
    num_k = centroids.shape[1]
    if int(changed.sum()) * REBUILD_FRACTION > changed.numel():
        # Many changes (the first step on a full memory): one product is cheaper than
        # moving every changed feature in and out of the sums.
        ks = torch.arange(num_k, device=assign.device).view(1, num_k, 1)
        members = (assign.unsqueeze(1) == ks) & use.unsqueeze(1)  # [C, K, N]
        features = memory.features
        if features.dtype != torch.float32 and features.device.type != 'cuda':
            features = features.float()
        memory.assigned_sums.copy_(torch.bmm(members.to(features.dtype), features))
    else:
        classes, slots = changed.nonzero(as_tuple=True)
        memory.move_in_sums(classes, slots, assign[classes, slots], old[classes, slots])
    memory.assignment.copy_(assign)

    counts = _counts(assign, use, num_k)
    sums = memory.assigned_sums
    if rescue is not None and bool(rescue.any()):
        idx = rescue.nonzero(as_tuple=True)[0]
        ks = torch.arange(num_k, device=assign.device).view(1, num_k, 1)
        members = (assign[idx].unsqueeze(1) == ks) & valid[idx].unsqueeze(1)  # [R, K, N]
        sums = sums.clone()
        sums[idx] = torch.bmm(members.double(), memory.features[idx].double())
        counts[idx] = members.sum(dim=2)
    return ClusteringResult(
        centroids=momentum_update_centroids(centroids, sums, counts, momentum),
        assignments=assign,
        counts=counts,
        updated=counts > 0,
        empty_classes=~valid.any(dim=1))

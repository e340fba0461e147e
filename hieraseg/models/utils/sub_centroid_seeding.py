"""Keeping every class alive (issue 10): sub-centroids placed from, or moved onto, real
features instead of being left where no feature reaches them.

- :func:`farthest_point_seeds`: K mutually far features of each class (deterministic);
- :func:`init_sub_centroids`: a class's K sub-centroids from its own features
  (farthest-point seeds, one Sinkhorn assignment of the features to them, the normalised
  means) instead of random directions;
- :func:`reseed_sub_centroids`: starved sub-centroids onto their class's worst-served
  features.

All work on the :class:`FeatureMemory` layout (features ``[C, N, D]`` grouped by class and
padded, ``valid [C, N]``) for all classes at once. When they are used is the rule of
:class:`~.clustering_policy.SubCentroidClusteringPolicy`.
"""
import torch
import torch.nn.functional as F
from torch import Tensor

from .sinkhorn import check_sinkhorn_args
from .sub_centroid_clustering import assign_sub_centroids

__all__ = ['farthest_point_seeds', 'init_sub_centroids', 'reseed_sub_centroids']


@torch.no_grad()
def farthest_point_seeds(features: Tensor, valid: Tensor, num_k: int) -> Tensor:
    """K farthest-point seeds per class, all classes at once (a loop over K only).

    The first seed is the valid feature nearest (cosine) to its class's mean; each next
    one is the valid feature whose best cosine to the seeds chosen so far is the lowest.
    Deterministic (ties go to the lower index).

    Args:
        features (Tensor): ``[C, N, D]`` unit features grouped by class, padded.
        valid (Tensor): ``[C, N]`` bool.
        num_k (int): K.

    Returns:
        Tensor: ``[C, K, D]`` float32 seeds (rows of ``features``; a class with fewer
        than K valid features repeats some; a class with none gets zeros).
    """
    feats = features.float()
    mask = valid.unsqueeze(-1).to(feats.dtype)
    mean = (feats * mask).sum(dim=1)  # [C, D]
    neg_inf = torch.finfo(feats.dtype).min
    score = torch.einsum('cnd,cd->cn', feats, mean).masked_fill(~valid, neg_inf)
    first = score.argmax(dim=1)  # [C]
    rows = torch.arange(feats.shape[0], device=feats.device)
    seeds = [feats[rows, first]]
    best = torch.einsum('cnd,cd->cn', feats, seeds[0])  # best cosine to any seed
    for _ in range(1, num_k):
        nxt = best.masked_fill(~valid, float('inf')).argmin(dim=1)
        seeds.append(feats[rows, nxt])
        best = torch.maximum(best, torch.einsum('cnd,cd->cn', feats, seeds[-1]))
    return torch.stack(seeds, dim=1) * valid.any(dim=1).view(-1, 1, 1).to(feats.dtype)


@torch.no_grad()
def init_sub_centroids(features: Tensor, valid: Tensor, num_k: int,
                       epsilon: float = 0.05, iters: int = 3) -> Tensor:
    """Data-driven sub-centroids: farthest-point seeds, a Sinkhorn assignment of the
    class's features to them, and the normalised mean of each seed's features.

    Args:
        features (Tensor): ``[C, N, D]`` unit features grouped by class, padded.
        valid (Tensor): ``[C, N]`` bool; every class should have at least K.
        num_k (int): K.

    Returns:
        Tensor: ``[C, K, D]`` float32 unit vectors (a seed that received no feature is
        kept as it is).
    """
    check_sinkhorn_args(epsilon, iters)
    seeds = farthest_point_seeds(features, valid, num_k)
    assign = assign_sub_centroids(seeds, features, valid, epsilon, iters)
    ks = torch.arange(num_k, device=assign.device).view(1, num_k, 1)
    members = (assign.unsqueeze(1) == ks) & valid.unsqueeze(1)  # [C, K, N]
    sums = torch.bmm(members.float(), features.float())  # [C, K, D]
    got = members.any(dim=2, keepdim=True)
    return F.normalize(torch.where(got, sums, seeds), dim=-1)


@torch.no_grad()
def reseed_sub_centroids(centroids: Tensor, features: Tensor, valid: Tensor,
                         starved: Tensor) -> Tensor:
    """Put starved sub-centroids on their class's worst-served features.

    A feature's service is its best cosine to its class's sub-centroids; the j-th starved
    sub-centroid of a class (in index order) moves onto the class's j-th worst-served valid
    feature, so that two starved sub-centroids of a class never land on the same one.

    Args:
        centroids (Tensor): ``[C, K, D]`` unit sub-centroids.
        features (Tensor): ``[C, N, D]`` unit features grouped by class, padded.
        valid (Tensor): ``[C, N]`` bool.
        starved (Tensor): ``[C, K]`` bool, the sub-centroids to move. Where the class has
            fewer valid features than starved sub-centroids, the extra ones stay.

    Returns:
        Tensor: ``[C, K, D]`` float32; rows not starved are unchanged.
    """
    centroids = centroids.float()
    feats = features.float()
    service = torch.bmm(centroids, feats.transpose(1, 2)).amax(dim=1)  # [C, N]
    order = service.masked_fill(~valid, float('inf')).argsort(dim=1)  # worst first
    rank = starved.long().cumsum(dim=1) - 1  # [C, K]: j for the j-th starved one
    usable = starved & (rank < valid.sum(dim=1, keepdim=True))
    pick = order.gather(1, rank.clamp(min=0))  # [C, K] feature index
    chosen = feats.gather(1, pick.unsqueeze(-1).expand(-1, -1, feats.shape[2]))
    return torch.where(usable.unsqueeze(-1), F.normalize(chosen, dim=-1), centroids)

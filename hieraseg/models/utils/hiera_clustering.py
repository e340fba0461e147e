"""Sub-centroid clustering of the coarse nodes of a hierarchy, from the leaves' memories.

A pixel feature belongs to every node on its label's root-to-leaf path, so the features
of a level-l node are those of all its descendant leaves. The :class:`FeatureMemory` keeps
one FIFO per LEAF; a level's step reads those FIFOs where they are (no per-node copy):

1. similarities of every leaf's memory to its level-l ancestor's K sub-centroids,
   ``[C_0, K, cap]`` (one batched product);
2. rearranged into the node layout ``[C_l, K, M * cap]`` (M: the most leaves under one
   node of the level; padding masked) -- a gather of similarities, not of features;
3. one batched Sinkhorn (equipartition over ALL of a node's features) and hard
   assignment for all nodes of the level (:func:`assign_from_similarities`);
4. the assigned correctly classified features summed per leaf (``[C_0, K, D]``) and
   added up per node (``index_add``), then the momentum update
   (:func:`momentum_update_centroids`).

This is exactly :func:`cluster_sub_centroids` on the concatenation of each node's
descendant leaves' memories (same assignments; sums equal up to float rounding), without
building that concatenation. "Correctly classified" is the memory's mark (made when the
feature was stored: the leaf level's own argmax was the label,
:meth:`HieraSubCentroidClassifier.correct_embedded`), so a coarse node moves with the
features that its leaves classify correctly. Only the data-driven initialisation
(:func:`init_level_sub_centroids`, once per node) gathers a node's features.
"""
from typing import NamedTuple

import torch
from torch import Tensor

from .feature_memory import FeatureMemory, class_ranks
from .sub_centroid_clustering import (ClusteringResult, assign_from_similarities,
                                      momentum_update_centroids)
from .sub_centroid_seeding import init_sub_centroids

__all__ = ['level_members', 'cluster_level', 'init_level_sub_centroids', 'LevelTables']


class LevelTables(NamedTuple):
    """Index tables of one coarse level.

    ancestor: ``[C_0]`` long, each leaf's level-l node (``hierarchy.leaf_to_level[l]``).
    members: ``[C_l, M]`` long, the leaves under each node (in leaf order), -1 padded.
    """
    ancestor: Tensor
    members: Tensor


def level_members(ancestor: Tensor, num_nodes: int) -> LevelTables:
    """The ``[C_l, M]`` table of each node's leaves (vectorised, -1 padded).

    Args:
        ancestor: ``[C_0]`` long, every leaf's node in ``[0, num_nodes)``.
        num_nodes: C_l.
    """
    ranks, counts = class_ranks(ancestor, num_nodes)
    width = max(int(counts.max()), 1)
    members = torch.full((num_nodes, width), -1, dtype=torch.long, device=ancestor.device)
    members[ancestor, ranks] = torch.arange(ancestor.numel(), device=ancestor.device)
    return LevelTables(ancestor, members)


def _features(memory: FeatureMemory) -> Tensor:
    feats = memory.features
    if feats.dtype != torch.float32 and feats.device.type != 'cuda':
        feats = feats.float()  # half matmuls are slow (or missing) on the CPU
    return feats


def _node_layout(per_leaf: Tensor, members: Tensor) -> Tensor:
    """``[C_0, cap, ...]`` per-leaf values -> ``[C_l, M * cap, ...]`` per node (padding
    leaves read leaf 0; mask them)."""
    out = per_leaf[members.clamp(min=0)]  # [C_l, M, cap, ...]
    return out.reshape(members.shape[0], -1, *per_leaf.shape[2:])


@torch.no_grad()
def init_level_sub_centroids(memory: FeatureMemory, members: Tensor, num_k: int,
                             epsilon: float = 0.05, iters: int = 3) -> Tensor:
    """:func:`init_sub_centroids` of some nodes over their descendant leaves' memories.

    Args:
        memory: the per-leaf memory.
        members: ``[T, M]`` the rows of :func:`level_members` of the T nodes to place.

    Returns:
        Tensor: ``[T, K, D]`` float32 unit vectors.
    """
    real = (members >= 0).unsqueeze(-1)  # [T, M, 1]
    valid = (memory.valid[members.clamp(min=0)] & real).reshape(members.shape[0], -1)
    return init_sub_centroids(_node_layout(_features(memory), members), valid, num_k,
                              epsilon, iters)


@torch.no_grad()
def cluster_level(centroids: Tensor,
                  memory: FeatureMemory,
                  tables: LevelTables,
                  momentum: float = 0.999,
                  epsilon: float = 0.05,
                  iters: int = 3) -> ClusteringResult:
    """One clustering step of all nodes of a coarse level (module docstring).

    Args:
        centroids: ``[C_l, K, D]`` the level's unit sub-centroids.
        memory: the per-leaf :class:`FeatureMemory` (``[C_0, cap, D]``).
        tables: :func:`level_members` of the level, on the memory's device.
        momentum, epsilon, iters: as :func:`cluster_sub_centroids`.

    Returns:
        ClusteringResult: ``centroids [C_l, K, D]``, ``assignments [C_0, cap]`` (each
        leaf slot's sub-centroid of its level-l node, -1 on empty slots), ``counts`` /
        ``updated [C_l, K]``, ``empty_classes [C_l]`` (nodes without any feature: their
        sub-centroids are returned unchanged).
    """
    num_nodes, num_k, _ = centroids.shape
    ancestor, members = tables
    feats = _features(memory)
    valid = memory.valid  # [C_0, cap]
    use = valid & memory.correct
    centroids = centroids.float()
    # 1. every leaf's memory against its ancestor's sub-centroids: [C_0, K, cap]
    sims = torch.bmm(centroids[ancestor].to(feats.dtype), feats.transpose(1, 2))
    # 2. node layout [C_l, K, M * cap]
    node_sims = sims[members.clamp(min=0)].permute(0, 2, 1, 3).reshape(num_nodes, num_k, -1)
    real = members >= 0
    node_valid = _node_layout(valid, members) & real.repeat_interleave(
        valid.shape[1], dim=1)
    # 3. Sinkhorn over all features of each node, hard assignment, back to the leaves
    node_assign = assign_from_similarities(node_sims, node_valid, epsilon, iters)
    node_assign = node_assign.view(num_nodes, members.shape[1], -1)  # [C_l, M, cap]
    assign = torch.full_like(valid, -1, dtype=torch.long)
    assign[members[real]] = node_assign[real]
    # 4. sums per leaf, then per node; momentum update
    ks = torch.arange(num_k, device=assign.device).view(1, num_k, 1)
    chosen = (assign.unsqueeze(1) == ks) & use.unsqueeze(1)  # [C_0, K, cap]
    leaf_sums = torch.bmm(chosen.to(feats.dtype), feats)  # [C_0, K, D]
    sums = torch.zeros(num_nodes, *leaf_sums.shape[1:], dtype=torch.float64,
                       device=feats.device).index_add_(0, ancestor, leaf_sums.double())
    counts = torch.zeros(num_nodes, num_k, dtype=torch.long,
                         device=feats.device).index_add_(0, ancestor, chosen.sum(dim=2))
    filled = torch.zeros(num_nodes, dtype=torch.long,
                         device=feats.device).index_add_(0, ancestor, valid.sum(dim=1))
    return ClusteringResult(
        centroids=momentum_update_centroids(centroids, sums, counts, momentum),
        assignments=assign,
        counts=counts,
        updated=counts > 0,
        empty_classes=filled == 0)

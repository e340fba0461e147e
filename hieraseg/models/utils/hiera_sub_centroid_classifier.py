"""Hierarchical nearest sub-centroids: K sub-centroids for every node of a class hierarchy.

:class:`HieraSubCentroidClassifier` is a :class:`SubCentroidClassifier` whose "classes" are
the V nodes of a :class:`~hieraseg.hierarchy.ClassHierarchy` in its node layout (the C_0
leaves first, then every coarser level): ``centroids [V, K, D]``. A node's score is its best
cosine over its K sub-centroids (the base class); the node logits are the scores normalised
per level (a learnable LayerNorm over each level's C_l scores, or the temperature), so
that they feed the HSSN losses and the root-to-leaf path inference unchanged.

Its prediction (:meth:`predict`, :meth:`predict_embedded`) is the top-scoring
root-to-leaf path's leaf (:func:`~hieraseg.models.utils.path_scores.leaf_path_scores`); the
clustering hook's "correctly classified" mark (:meth:`correct_embedded`) is the leaf
level's own argmax, as flat DNC judges its classes. Features are kept for the
hook with their LEAF labels; the hook's memory holds one FIFO per leaf, and a coarse node's
sub-centroids are clustered over its descendant leaves' memories
(:func:`~hieraseg.models.utils.hiera_clustering.cluster_level`).
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from hieraseg.hierarchy import HierarchyLike, build_hierarchy
from .path_scores import check_path_score_mode, leaf_path_scores
from .sub_centroid_classifier import SubCentroidClassifier

__all__ = ['HieraSubCentroidClassifier', 'MonotoneLayerNorm']


class MonotoneLayerNorm(nn.Module):
    """LayerNorm over the last dimension (C) whose per-channel scale stays positive:
    ``exp(log_weight) * (s - mean) / std + bias``, so that a node's logit always grows
    with its score. With the focal tree-min loss, nn.LayerNorm's free weights turned
    negative on the toy set (logits growing with the DISTANCE to the sub-centroids) and
    every sub-centroid collapsed onto one direction.

    With ``min_scale`` > 0 the scale is ``min_scale + exp(log_weight)``: it cannot shrink
    below ``min_scale`` either (a node whose scale goes to 0 no longer depends on its score).

    Parameters: ``log_weight [C]`` (0: scale 1, or ``min_scale + 1``) and ``bias [C]`` (0).
    """

    def __init__(self, num_channels: int, eps: float = 1e-5, min_scale: float = 0.0):
        super().__init__()
        if not min_scale >= 0:
            raise ValueError(f'min_scale must be >= 0, got {min_scale}')
        self.eps = eps
        self.min_scale = float(min_scale)
        self.log_weight = nn.Parameter(torch.zeros(num_channels))
        self.bias = nn.Parameter(torch.zeros(num_channels))

    def forward(self, scores: Tensor) -> Tensor:
        normed = F.layer_norm(scores, scores.shape[-1:], eps=self.eps)
        return normed * (self.log_weight.exp() + self.min_scale) + self.bias


class HieraSubCentroidClassifier(SubCentroidClassifier):
    """Nearest-sub-centroid classifier over all nodes of a class hierarchy.

    Args:
        hierarchy: the class hierarchy (built-in name, dict or ClassHierarchy).
        num_sub_centroids (int): K >= 1 sub-centroids per node.
        feat_dim (int): D.
        logit_norm (str): ``'layernorm'`` (a :class:`MonotoneLayerNorm` over the C_l
            scores of each level -- positive scales; every level needs C_l >= 2),
            ``'temperature'`` or ``'affine'`` (a positive scale and a bias per node,
            :class:`PositiveAffine`).
        temperature (float): for ``logit_norm='temperature'``.
        feat_norm (str | None): as :class:`SubCentroidClassifier`.
        min_logit_scale (float): ``min_scale`` of every level's :class:`MonotoneLayerNorm`
            (``logit_norm='layernorm'``); default 0.
        path_score (str): how :meth:`predict_embedded` scores a root-to-leaf path
            (``'sum'``, ``'min'`` or ``'log'``); the head sets it to its own.

    Buffers: those of :class:`SubCentroidClassifier` with C = V nodes (``centroids
    [V, K, D]``, ``initialized [V]``, ``class_stale [V]``, ``centroid_stale [V, K]``).
    """

    def __init__(self,
                 hierarchy: HierarchyLike,
                 num_sub_centroids: int,
                 feat_dim: int,
                 logit_norm: str = 'layernorm',
                 temperature: float = 0.1,
                 feat_norm: Optional[str] = 'layernorm',
                 path_score: str = 'sum',
                 min_logit_scale: float = 0.0):
        hierarchy = build_hierarchy(hierarchy)
        if logit_norm == 'layernorm' and min(hierarchy.level_sizes) < 2:
            raise ValueError(f"logit_norm='layernorm' normalises over each level's nodes; "
                             f'hierarchy {hierarchy.name!r} has a level of '
                             f'{min(hierarchy.level_sizes)} node: use \'temperature\'')
        # read by _build_logit_norm, which the base constructor calls
        self.hierarchy = hierarchy
        self.min_logit_scale = float(min_logit_scale)
        super().__init__(hierarchy.num_nodes, num_sub_centroids, feat_dim,
                         logit_norm=logit_norm, temperature=temperature,
                         feat_norm=feat_norm)
        self.path_score = check_path_score_mode(path_score, 'HieraSubCentroidClassifier')
        self.register_buffer('leaf_to_node', hierarchy.leaf_to_node.clone(), persistent=False)

    def _build_logit_norm(self) -> Optional[nn.Module]:
        """``'layernorm'``: one :class:`MonotoneLayerNorm` per level (a ModuleList); the
        other normalisations are per node, as in the base class."""
        if self.logit_norm != 'layernorm':
            return super()._build_logit_norm()
        return nn.ModuleList(MonotoneLayerNorm(size, min_scale=self.min_logit_scale)
                             for size in self.hierarchy.level_sizes)

    @property
    def num_leaves(self) -> int:
        return self.hierarchy.num_leaves

    def extra_repr(self) -> str:
        return (super().extra_repr() + f', hierarchy={self.hierarchy.name!r}, '
                f'level_sizes={self.hierarchy.level_sizes}')

    def normalise_scores(self, scores: Tensor) -> Tensor:
        """Node logits ``[N, V]`` from node scores ``[N, V]``, normalised per level."""
        if self.logit_norm != 'layernorm':  # per node: no need to split the levels
            return super().normalise_scores(scores)
        levels = scores.split(list(self.hierarchy.level_sizes), dim=1)
        return torch.cat([norm(s) for norm, s in zip(self.norm, levels)], dim=1)

    @torch.no_grad()
    def correct_embedded(self, x: Tensor, labels: Tensor) -> Tensor:
        """``[N]`` bool: the LEAF level's own argmax equals the leaf label ``[N]`` (as flat
        DNC judges its classes; not the path prediction, which also needs every ancestor
        right, so that a wrong coarse level would freeze the leaves' sub-centroids)."""
        scores = self.similarities_embedded(x).amax(dim=2)  # [N, V], the leaves first
        if self.logit_norm == 'layernorm':
            level0 = self.norm[0](scores[:, :self.num_leaves])
        else:  # per-node maps
            level0 = self.normalise_scores(scores)[:, :self.num_leaves]
        return level0.argmax(dim=1) == labels

    @torch.no_grad()
    def predict(self, features: Tensor) -> Tensor:
        """Predicted leaf ``[N]`` (top-scoring root-to-leaf path) of raw features ``[N, D]``."""
        return leaf_path_scores(self(features), self.leaf_to_node, self.path_score).argmax(1)

    @torch.no_grad()
    def predict_embedded(self, x: Tensor) -> Tensor:
        """Predicted leaf ``[N]`` of embedded features ``[N, D]`` (as kept for the hook)."""
        logits = self.logits_from_similarities(self.similarities_embedded(x))
        return leaf_path_scores(logits, self.leaf_to_node, self.path_score).argmax(1)

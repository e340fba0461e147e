"""Nearest-sub-centroid classifier shared by every DNC head (classification and segmentation).

Each class c owns K unit-norm sub-centroids ``p_{c,k}`` (a buffer, never touched by SGD;
the :class:`~hieraseg.engine.hooks.SinkhornClusteringHook` moves them). A feature's class
score is ``max_k cos(x, p_{c,k})``; logits are the scores passed through a learnable
LayerNorm over the classes (as the public DNC / ProtoSeg code) or divided by a temperature.

The classifier also holds the detached features and labels of the last training forward
(``keep_for_clustering`` / ``pop_kept``): the hook reads them after the optimizer step.
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

__all__ = ['SubCentroidClassifier']

_LOGIT_NORMS = ('layernorm', 'temperature')


class SubCentroidClassifier(nn.Module):
    """Cosine nearest-sub-centroid classifier.

    Args:
        num_classes (int): C.
        num_sub_centroids (int): K >= 1 sub-centroids per class.
        feat_dim (int): D, the feature (embedding) width.
        logit_norm (str): ``'layernorm'`` (learnable LayerNorm over the C scores) or
            ``'temperature'`` (scores / ``temperature``).
        temperature (float): used when ``logit_norm='temperature'``; > 0.

    Buffers:
        centroids: ``[C, K, D]`` float32 unit vectors (saved in checkpoints).
    """

    def __init__(self,
                 num_classes: int,
                 num_sub_centroids: int,
                 feat_dim: int,
                 logit_norm: str = 'layernorm',
                 temperature: float = 0.1):
        super().__init__()
        for name, value in (('num_classes', num_classes),
                            ('num_sub_centroids', num_sub_centroids),
                            ('feat_dim', feat_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f'{name} must be an integer >= 1, got {value!r}')
        if logit_norm not in _LOGIT_NORMS:
            raise ValueError(f'logit_norm must be one of {_LOGIT_NORMS}, got {logit_norm!r}')
        if logit_norm == 'layernorm' and num_classes < 2:
            raise ValueError("logit_norm='layernorm' needs num_classes >= 2 (it normalises "
                             "over classes); use 'temperature'")
        if logit_norm == 'temperature' and not temperature > 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.num_classes = num_classes
        self.num_sub_centroids = num_sub_centroids
        self.feat_dim = feat_dim
        self.logit_norm = logit_norm
        self.temperature = float(temperature)
        self.register_buffer(
            'centroids',
            F.normalize(torch.randn(num_classes, num_sub_centroids, feat_dim), dim=-1))
        self.norm = nn.LayerNorm(num_classes) if logit_norm == 'layernorm' else None
        self._kept: Optional[Tuple[Tensor, Tensor]] = None

    def extra_repr(self) -> str:
        return (f'num_classes={self.num_classes}, num_sub_centroids='
                f'{self.num_sub_centroids}, feat_dim={self.feat_dim}, '
                f'logit_norm={self.logit_norm!r}')

    def similarities(self, features: Tensor) -> Tensor:
        """Cosine similarities ``[N, C, K]`` of features ``[N, D]`` to every sub-centroid."""
        if features.dim() != 2 or features.shape[1] != self.feat_dim:
            raise ValueError(f'features must be [N, {self.feat_dim}], got '
                             f'{tuple(features.shape)}')
        x = F.normalize(features, dim=1)
        flat = self.centroids.reshape(-1, self.feat_dim).to(x.dtype)
        return (x @ flat.t()).view(-1, self.num_classes, self.num_sub_centroids)

    def logits_from_similarities(self, sims: Tensor) -> Tensor:
        """Logits ``[N, C]`` from similarities ``[N, C, K]`` (max over K, then normalise)."""
        scores = sims.amax(dim=2)
        if self.norm is not None:
            return self.norm(scores)
        return scores / self.temperature

    def forward(self, features: Tensor, return_similarities: bool = False):
        """Classify features ``[N, D]``.

        Returns:
            Tensor ``[N, C]`` logits, or ``(logits, similarities [N, C, K])``.
        """
        sims = self.similarities(features)
        logits = self.logits_from_similarities(sims)
        return (logits, sims) if return_similarities else logits

    @torch.no_grad()
    def predict(self, features: Tensor) -> Tensor:
        """Predicted class ``[N]`` of features ``[N, D]``."""
        return self(features).argmax(dim=1)

    # --- what the clustering hook reads -----------------------------------------------
    def keep_for_clustering(self, features: Tensor, labels: Tensor) -> None:
        """Keep the detached, L2-normalised features ``[N, D]`` (float32) and their labels
        ``[N]`` of this training forward for the clustering hook (replacing older ones)."""
        if features.shape[0] != labels.shape[0]:
            raise ValueError('features and labels must have the same length, got '
                             f'{features.shape[0]} and {labels.shape[0]}')
        self._kept = (F.normalize(features.detach().float(), dim=1),
                      labels.detach().long().reshape(-1))

    def pop_kept(self) -> Optional[Tuple[Tensor, Tensor]]:
        """The kept ``(features [N, D], labels [N])`` and forget them; None if nothing
        was kept since the last call."""
        kept, self._kept = self._kept, None
        return kept

    # --- optional ProtoSeg-style terms --------------------------------------------------
    def auxiliary_losses(self,
                         sims: Tensor,
                         labels: Tensor,
                         contrast_weight: float = 0.0,
                         compact_weight: float = 0.0,
                         contrast_temperature: float = 1.0) -> Dict[str, Tensor]:
        """Sub-centroid contrast and compactness losses.

        The target sub-centroid of a feature is the nearest one of its ground-truth class
        (the Sinkhorn assignment is computed later, by the hook, after the step).

        Args:
            sims (Tensor): ``[N, C, K]`` similarities of valid features (with grad).
            labels (Tensor): ``[N]`` class ids in ``[0, C)``.

        Returns:
            dict with ``loss_contrast`` (CE over all C*K similarities / temperature) and
            ``loss_compact`` (mean ``(1 - cos(x, p_target))^2``), each only when its
            weight is > 0. An empty batch gives zeros that keep the graph connected.
        """
        losses = {}
        if contrast_weight <= 0 and compact_weight <= 0:
            return losses
        n = sims.shape[0]
        own = sims[torch.arange(n, device=sims.device), labels]  # [N, K]
        best_sim, best_k = own.max(dim=1)
        if contrast_weight > 0:
            if n == 0:
                loss = sims.sum() * 0.0
            else:
                target = labels * self.num_sub_centroids + best_k
                loss = F.cross_entropy(sims.reshape(n, -1) / contrast_temperature, target)
            losses['loss_contrast'] = contrast_weight * loss
        if compact_weight > 0:
            loss = (1.0 - best_sim).pow(2).mean() if n > 0 else sims.sum() * 0.0
            losses['loss_compact'] = compact_weight * loss
        return losses

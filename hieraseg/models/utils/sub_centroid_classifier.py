"""Nearest-sub-centroid classifier shared by every DNC head (classification and segmentation).

Each class c owns K unit-norm sub-centroids ``p_{c,k}`` (a buffer, never touched by SGD;
the :class:`~hieraseg.engine.hooks.SinkhornClusteringHook` moves them). A feature is first
embedded: a learnable LayerNorm over its D channels (``feat_norm='layernorm'``, as the
public DNC and ProtoSeg code; ``None`` skips it), then L2 normalisation. Its class score is
``max_k cos(x, p_{c,k})``; logits are the scores passed through a learnable LayerNorm over
the classes, divided by a temperature, or mapped by a learnable per-class positive
affine map (``'affine'``: ``exp(log_scale_c) * score_c + bias_c``, scale starting at
1 / temperature).

Why ``'affine'``: the LayerNorm standardises every pixel's score vector, so an ambiguous
pixel (a feature cell straddling two regions) gets logits as far apart as a clear one, and
the decoder's bilinear upsampling of the logits can no longer place a boundary inside a
cell; an affine map keeps the scores' margins and commutes with the upsampling.

Why the feature LayerNorm: pooled ReLU features all lie in the non-negative orthant, so
without it every cosine lives in a narrow positive band and a class whose sub-centroids
start (or drift) out of reach is never predicted again (issue 10).

Checkpoints written before ``feat_norm`` existed have no ``feat_norm.*`` entries and
centroids fitted to un-normalised features: load them into a classifier built with
``feat_norm=None`` (exactly the old model). Loading one into ``feat_norm='layernorm'`` is
reported as a load error naming the fix (an error under ``strict=True``, mmengine's
warning under ``strict=False``). Their missing ``initialized`` flags read as "not yet
initialised", so resuming training from one re-seeds the centroids from the memory once.

The classifier also holds the detached features and labels of the last training forward
(``keep_for_clustering`` / ``pop_kept``): the hook reads them after the optimizer step.
"""
import math
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

__all__ = ['SubCentroidClassifier', 'PositiveAffine']

_LOGIT_NORMS = ('layernorm', 'temperature', 'affine')
_FEAT_NORMS = ('layernorm', None)


class PositiveAffine(nn.Module):
    """Per-channel ``exp(log_scale) * s + bias`` over the last dimension (C): a logit
    always grows with its score. Parameters ``log_scale [C]`` (``log(init_scale)``) and
    ``bias [C]`` (0)."""

    def __init__(self, num_channels: int, init_scale: float = 1.0):
        super().__init__()
        if not init_scale > 0:
            raise ValueError(f'init_scale must be > 0, got {init_scale}')
        self.log_scale = nn.Parameter(torch.full((num_channels, ), math.log(init_scale)))
        self.bias = nn.Parameter(torch.zeros(num_channels))

    def forward(self, scores: Tensor) -> Tensor:
        return scores * self.log_scale.exp() + self.bias


class SubCentroidClassifier(nn.Module):
    """Cosine nearest-sub-centroid classifier.

    Args:
        num_classes (int): C.
        num_sub_centroids (int): K >= 1 sub-centroids per class.
        feat_dim (int): D, the feature (embedding) width.
        logit_norm (str): ``'layernorm'`` (learnable LayerNorm over the C scores),
            ``'temperature'`` (scores / ``temperature``) or ``'affine'``
            (:class:`PositiveAffine`, scales starting at 1 / ``temperature``).
        temperature (float): used when ``logit_norm`` is ``'temperature'`` or
            ``'affine'``; > 0.
        feat_norm (str | None): ``'layernorm'`` (learnable LayerNorm over the D feature
            channels before the L2 normalisation) or None. Defaults to ``'layernorm'``.

    Buffers (saved in checkpoints):
        centroids: ``[C, K, D]`` float32 unit vectors.
        initialized: ``[C]`` bool, the class's sub-centroids were placed from its own
            features (the hook's data-driven initialisation); False at construction.
        class_stale: ``[C]`` long, clustering steps since the class last had a correctly
            classified feature in the memory (the hook's dead-class rescue).
        centroid_stale: ``[C, K]`` long, clustering steps since each sub-centroid last
            received a feature (the hook's dead-sub-centroid re-seeding).
    """

    def __init__(self,
                 num_classes: int,
                 num_sub_centroids: int,
                 feat_dim: int,
                 logit_norm: str = 'layernorm',
                 temperature: float = 0.1,
                 feat_norm: Optional[str] = 'layernorm'):
        super().__init__()
        for name, value in (('num_classes', num_classes),
                            ('num_sub_centroids', num_sub_centroids),
                            ('feat_dim', feat_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f'{name} must be an integer >= 1, got {value!r}')
        if logit_norm not in _LOGIT_NORMS:
            raise ValueError(f'logit_norm must be one of {_LOGIT_NORMS}, got {logit_norm!r}')
        if feat_norm not in _FEAT_NORMS:
            raise ValueError(f'feat_norm must be one of {_FEAT_NORMS}, got {feat_norm!r}')
        if logit_norm == 'layernorm' and num_classes < 2:
            raise ValueError("logit_norm='layernorm' needs num_classes >= 2 (it normalises "
                             "over classes); use 'temperature'")
        if logit_norm != 'layernorm' and not temperature > 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.num_classes = num_classes
        self.num_sub_centroids = num_sub_centroids
        self.feat_dim = feat_dim
        self.logit_norm = logit_norm
        self.temperature = float(temperature)
        self.register_buffer(
            'centroids',
            F.normalize(torch.randn(num_classes, num_sub_centroids, feat_dim), dim=-1))
        self.register_buffer('initialized', torch.zeros(num_classes, dtype=torch.bool))
        self.register_buffer('class_stale', torch.zeros(num_classes, dtype=torch.long))
        self.register_buffer('centroid_stale',
                             torch.zeros(num_classes, num_sub_centroids, dtype=torch.long))
        self.norm = self._build_logit_norm()
        self.feat_norm_type = feat_norm
        self.feat_norm = nn.LayerNorm(feat_dim) if feat_norm == 'layernorm' else None
        self._kept: Optional[Tuple[Tensor, Tensor]] = None

    def _build_logit_norm(self) -> Optional[nn.Module]:
        """The learnable score normalisation (``'layernorm'``, ``'affine'``), or None."""
        if self.logit_norm == 'layernorm':
            return nn.LayerNorm(self.num_classes)
        if self.logit_norm == 'affine':
            return PositiveAffine(self.num_classes, 1.0 / self.temperature)
        return None

    def normalise_scores(self, scores: Tensor) -> Tensor:
        """Logits ``[N, C]`` from scores ``[N, C]`` (best cosine per class)."""
        if self.norm is not None:
            return self.norm(scores)
        return scores / self.temperature

    def extra_repr(self) -> str:
        return (f'num_classes={self.num_classes}, num_sub_centroids='
                f'{self.num_sub_centroids}, feat_dim={self.feat_dim}, '
                f'logit_norm={self.logit_norm!r}, feat_norm={self.feat_norm_type!r}')

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs):
        """Loads checkpoints written before ``initialized`` / ``*_stale`` / ``feat_norm``
        existed (see the module docstring)."""
        if prefix + 'centroids' in state_dict:
            defaults = {'initialized': torch.zeros_like(self.initialized),
                        'class_stale': torch.zeros_like(self.class_stale),
                        'centroid_stale': torch.zeros_like(self.centroid_stale)}
            for key, value in defaults.items():
                state_dict.setdefault(prefix + key, value)
            if self.feat_norm is not None and prefix + 'feat_norm.weight' not in state_dict:
                error_msgs.append(
                    f'{prefix}centroids were written without a feature LayerNorm (no '
                    f"'{prefix}feat_norm.weight'; a checkpoint from before feat_norm "
                    "existed): build the DNC head with feat_norm=None to use it")
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)

    def embed(self, features: Tensor) -> Tensor:
        """Feature normalisation (if any), then L2 normalisation: ``[N, D]`` -> ``[N, D]``
        unit vectors, the space the sub-centroids live in."""
        if features.dim() != 2 or features.shape[1] != self.feat_dim:
            raise ValueError(f'features must be [N, {self.feat_dim}], got '
                             f'{tuple(features.shape)}')
        if self.feat_norm is not None:
            features = self.feat_norm(features)
        return F.normalize(features, dim=1)

    def similarities_embedded(self, x: Tensor) -> Tensor:
        """Cosine similarities ``[N, C, K]`` of embedded (unit) features ``[N, D]``
        (:meth:`embed`'s output) to every sub-centroid."""
        flat = self.centroids.reshape(-1, self.feat_dim).to(x.dtype)
        return (x @ flat.t()).view(-1, self.num_classes, self.num_sub_centroids)

    def similarities(self, features: Tensor) -> Tensor:
        """Cosine similarities ``[N, C, K]`` of raw features ``[N, D]`` to every
        sub-centroid (through :meth:`embed`)."""
        return self.similarities_embedded(self.embed(features))

    def logits_from_similarities(self, sims: Tensor) -> Tensor:
        """Logits ``[N, C]`` from similarities ``[N, C, K]`` (max over K, then normalise)."""
        return self.normalise_scores(sims.amax(dim=2))

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
        """Predicted class ``[N]`` of raw features ``[N, D]``."""
        return self(features).argmax(dim=1)

    @torch.no_grad()
    def predict_embedded(self, x: Tensor) -> Tensor:
        """Predicted class ``[N]`` of embedded features ``[N, D]`` (as kept for the hook)."""
        return self.logits_from_similarities(self.similarities_embedded(x)).argmax(dim=1)

    @torch.no_grad()
    def correct_embedded(self, x: Tensor, labels: Tensor) -> Tensor:
        """``[N]`` bool: embedded features ``[N, D]`` that this classifier classifies as
        their labels ``[N]`` (the clustering hook's "correctly classified" mark)."""
        return self.predict_embedded(x) == labels

    # --- what the clustering hook reads -----------------------------------------------
    def keep_for_clustering(self, features: Tensor, labels: Tensor) -> None:
        """Keep the detached embedded features ``[N, D]`` (:meth:`embed`, float32) and
        their labels ``[N]`` of this training forward for the clustering hook (replacing
        older ones)."""
        if features.shape[0] != labels.shape[0]:
            raise ValueError('features and labels must have the same length, got '
                             f'{features.shape[0]} and {labels.shape[0]}')
        with torch.no_grad():
            x = self.embed(features.detach().float())
        self._kept = (x, labels.detach().long().reshape(-1))

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

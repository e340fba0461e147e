"""Balanced per-leaf class weights from pixel counts, and putting them into a config's
hierarchical losses (``tools/new_config.py --class-weight balanced``,
``tools/hierarchy_stats.py --class-weight``).

The losses that take them, :class:`~hieraseg.models.losses.TreeMinLoss` and
:class:`~hieraseg.models.losses.HieraCrossEntropyLoss`, weigh every pixel by its leaf's
weight at every level and divide by the sum of the weights (a weighted mean), so only the
weights' ratios count.
"""
from typing import List, Sequence

import numpy as np

from .config_checks import segmentor_heads

# the losses whose ``class_weight`` is one weight per leaf, weighted mean
HIERARCHICAL_LOSSES = ('TreeMinLoss', 'HieraCrossEntropyLoss')


def balanced_class_weights(leaf_counts: Sequence[int], power: float = 0.5,
                           max_weight: float = 10.0) -> List[float]:
    """Median-frequency weights to a power, ``w_c = (median_f / f_c) ** power``, clipped to
    ``[1 / max_weight, max_weight]``, rounded to 4 significant digits.

    The default, the square root, is what helped rare leaves on the toy set
    (docs/own_data.md, section 7); ``power=1`` (plain median frequency) weighed them too
    much there and cost every class.

    Args:
        leaf_counts: ``[C_0]`` pixel counts of the leaves (e.g. of the training labels).
            ``median_f`` is the median over the leaves that occur; a leaf with no pixel gets
            weight 1 (it never weighs a pixel).
        power: the exponent (> 0).
        max_weight: the clipping bound (> 1), so that a nearly absent class does not take
            over the loss.

    Raises:
        ValueError: no pixel at all, a negative count, ``power <= 0`` or
            ``max_weight <= 1``.
    """
    counts = np.asarray(leaf_counts, dtype=np.float64)
    if counts.ndim != 1 or (counts < 0).any():
        raise ValueError(f'leaf_counts must be one count >= 0 per leaf, got {leaf_counts!r}')
    if not counts.any():
        raise ValueError('balanced_class_weights: no labelled pixel, nothing to balance')
    if not power > 0:
        raise ValueError(f'balanced_class_weights: power must be > 0, got {power!r}')
    if not max_weight > 1:
        raise ValueError(f'balanced_class_weights: max_weight must be > 1, got {max_weight!r}')
    present = counts > 0
    weights = np.ones_like(counts)
    weights[present] = (np.median(counts[present]) / counts[present]) ** power
    weights = np.clip(weights, 1.0 / max_weight, max_weight)
    return [float(f'{w:.4g}') for w in weights]


def _loss_type_name(loss_cfg) -> str:
    loss_type = loss_cfg.get('type')
    name = loss_type if isinstance(loss_type, str) else getattr(loss_type, '__name__', '')
    return name.split('.')[-1]


def set_class_weight(model_cfg, weights: Sequence[float]) -> List[str]:
    """Sets ``class_weight=list(weights)`` on every TreeMinLoss / HieraCrossEntropyLoss in
    the ``loss_decode`` of ``model_cfg``'s decode and auxiliary heads (in place).

    Returns:
        ``'<head key>.loss_decode[i] (<type>)'`` for each loss set.

    Raises:
        ValueError: no such loss (the flat and DNC methods' mmseg losses do not take
            per-leaf weights this way).
    """
    done = []
    for where, head in segmentor_heads(model_cfg):
        losses = head.get('loss_decode')
        for i, loss_cfg in enumerate(losses if isinstance(losses, (list, tuple)) else [losses]):
            if loss_cfg is not None and _loss_type_name(loss_cfg) in HIERARCHICAL_LOSSES:
                loss_cfg['class_weight'] = [float(w) for w in weights]
                done.append(f'{where[len("model."):]}.loss_decode[{i}] '
                            f'({_loss_type_name(loss_cfg)})')
    if not done:
        raise ValueError(f'class weights: the model has no {" / ".join(HIERARCHICAL_LOSSES)} '
                         f'in its heads\' loss_decode (methods hssn and hiera-dnc have them)')
    return done

"""Per-level class probabilities of a segmentation model, for calibration (SPEC section 6).

A model's prediction at level l is the level-l ancestor of its predicted leaf (for every kind
of model hieraseg has); its *confidence* at level l is the probability the model gives that
class. What that probability is depends on the model's output, the ``mode``:

- ``'leaf_softmax'`` (flat models: a parametric or a DNC classifier over the leaves; logits
  ``[C_0, ...]``): the softmax over the leaves; a coarser node's probability is the sum of its
  leaves' (so every level is a distribution and the parents are inferred from the leaves).
- ``'node_sigmoid'`` (HSSN; node logits ``[V, ...]``): the sigmoid of the node's own logit,
  the score HSSN trains for "the pixel lies under this node". The confidence at level l is
  the sigmoid of the chosen path's level-l node. These are not a distribution over a level's
  nodes (they need not sum to 1); they are what the model claims about its chosen path.
- ``'level_softmax'`` (hierarchical DNC; node logits ``[V, ...]``, normalised per level): the
  softmax over each level's node logits, a distribution per level.

A temperature ``T_l`` per level divides the logits before the softmax / sigmoid at level l
(temperature scaling, Guo et al. 2017). It never changes a prediction: the predicted leaf
comes from the untempered model, and its ancestors are the coarser predictions.
"""
from typing import Optional, Sequence

import torch
from torch import Tensor

LEVEL_PROBABILITY_MODES = ('leaf_softmax', 'node_sigmoid', 'level_softmax')


def check_level_probability_mode(mode, what: str) -> str:
    if mode not in LEVEL_PROBABILITY_MODES:
        raise ValueError(f'{what}: unknown level probability {mode!r}; choose one of '
                         f'{LEVEL_PROBABILITY_MODES}')
    return mode


def check_level_temperatures(temperatures: Optional[Sequence[float]], num_levels: int,
                             what: str) -> Optional[list]:
    """``temperatures`` as a list of ``num_levels`` positive floats (or None): a clear error
    naming ``what`` otherwise."""
    if temperatures is None:
        return None
    if isinstance(temperatures, (str, bytes)) or not hasattr(temperatures, '__len__'):
        raise ValueError(f'{what}: level_temperatures must be a list of {num_levels} numbers '
                         f'(one per level, finest first), got {temperatures!r}')
    values = list(temperatures)
    if len(values) != num_levels:
        raise ValueError(f'{what}: level_temperatures has {len(values)} values, the hierarchy '
                         f'has {num_levels} levels')
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 \
                or value == float('inf'):
            raise ValueError(f'{what}: level_temperatures must be positive finite numbers, '
                             f'got {temperatures!r}')
    return [float(value) for value in values]


def level_probabilities(logits: Tensor, hierarchy, mode: str, level: int,
                        temperature: float = 1.0) -> Tensor:
    """The ``[C_l, ...]`` probabilities of every level-``level`` class.

    Args:
        logits: ``[C_0, ...]`` leaf logits (``'leaf_softmax'``) or ``[V, ...]`` node logits in
            the hierarchy's node layout (the node modes); any trailing shape.
        hierarchy: the :class:`ClassHierarchy`.
        mode: one of :data:`LEVEL_PROBABILITY_MODES` (module docstring).
        level: which level, 0 = the leaves.
        temperature: divides the logits first.

    Computed in float32 (float64 for float64 logits).
    """
    check_level_probability_mode(mode, 'level_probabilities')
    expected = hierarchy.num_leaves if mode == 'leaf_softmax' else hierarchy.num_nodes
    if logits.shape[0] != expected:
        raise ValueError(f'level_probabilities({mode!r}) needs {expected} logit channels for '
                         f'{hierarchy!r}, got a tensor of shape {tuple(logits.shape)}')
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32)) / temperature
    if mode == 'node_sigmoid':
        return logits[hierarchy.level_slice(level)].sigmoid()
    if mode == 'level_softmax':
        return logits[hierarchy.level_slice(level)].softmax(dim=0)
    leaf_probs = logits.softmax(dim=0)
    if level == 0:
        return leaf_probs
    ancestors = hierarchy.leaf_to_level[level].to(logits.device)
    level_probs = leaf_probs.new_zeros((hierarchy.level_sizes[level], ) + leaf_probs.shape[1:])
    return level_probs.index_add_(0, ancestors, leaf_probs)


def level_confidences(logits: Tensor, leaf: Tensor, hierarchy, mode: str,
                      temperatures: Optional[Sequence[float]] = None) -> Tensor:
    """The probability of the level-l ancestor of ``leaf`` at every level: ``[L, ...]``.

    Args:
        logits: ``[C_0, ...]`` or ``[V, ...]`` (see :func:`level_probabilities`).
        leaf: ``[...]`` leaf class ids (the model's prediction, or any leaf ids, e.g. the
            ground truth for a likelihood); all must be valid leaves.
        temperatures: one per level (None: all 1).
    """
    if tuple(leaf.shape) != tuple(logits.shape[1:]):
        raise ValueError(f'level_confidences: leaf ids of shape {tuple(leaf.shape)} do not '
                         f'fit logits of shape {tuple(logits.shape)}')
    temperatures = check_level_temperatures(temperatures, hierarchy.num_levels,
                                            'level_confidences') \
        or [1.0] * hierarchy.num_levels
    leaf = leaf.long()
    rows = []
    for level in range(hierarchy.num_levels):
        probs = level_probabilities(logits, hierarchy, mode, level, temperatures[level])
        node = hierarchy.leaf_to_level[level].to(leaf.device)[leaf]
        rows.append(probs.gather(0, node.unsqueeze(0)).squeeze(0))
    return torch.stack(rows)

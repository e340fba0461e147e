"""Hierarchical inference: node logits -> a score for every root-to-leaf path.

An HSSN head predicts one logit per node of the hierarchy (``[B, V, H, W]``, leaves first).
The prediction is the top-scoring root-to-leaf path; coarser predictions are that leaf's
ancestors, so they are consistent by construction. How a path is scored from its nodes'
sigmoid scores ``s_u`` is the decoder:

- ``'sum'`` (the paper): ``sum of s_u`` over the leaf and its ancestors;
- ``'min'``: ``min of s_u`` on the path, the positive-branch score ``p_leaf`` that the
  tree-min loss trains (``= sigmoid(min of the path's logits)``);
- ``'log'``: ``sum of log s_u``, the path's log-probability if the nodes were independent.

Always decode logits that are already at the output size: the scores are not linear in the
logits, so upsampling scores instead of logits gives other (and worse) predictions.
"""
import torch
import torch.nn.functional as F
from torch import Tensor

PATH_SCORE_MODES = ('sum', 'min', 'log')


def check_path_score_mode(mode, what: str) -> str:
    if mode not in PATH_SCORE_MODES:
        raise ValueError(f'{what}: unknown path score mode {mode!r}; choose one of '
                         f'{PATH_SCORE_MODES}')
    return mode


def leaf_path_scores(node_logits: Tensor, leaf_to_node: Tensor, mode: str = 'sum') -> Tensor:
    """Scores every root-to-leaf path: ``[B, V, H, W]`` logits -> ``[B, C_0, H, W]``.

    Args:
        node_logits: ``[B, V, H, W]`` in the hierarchy's node layout.
        leaf_to_node: ``[L, C_0]`` long, ``hierarchy.leaf_to_node`` (row l: the level-l
            ancestor of every leaf, as a node index), on the logits' device.
        mode: ``'sum'``, ``'min'`` or ``'log'`` (module docstring).

    Works one level at a time in two ``[B, C_0, H, W]`` tensors (full-resolution maps).
    Scores are float32 (float64 for float64 logits), also for half-precision logits and
    under autocast: summed half-precision sigmoids would tie paths that differ.
    """
    check_path_score_mode(mode, 'leaf_path_scores')
    dtype = torch.promote_types(node_logits.dtype, torch.float32)

    def level_logits(ancestors: Tensor) -> Tensor:  # a fresh [B, C_0, H, W] tensor
        return node_logits.index_select(1, ancestors).to(dtype)

    with torch.autocast(device_type=node_logits.device.type, enabled=False):
        if mode == 'min':
            path_min = level_logits(leaf_to_node[0])
            for ancestors in leaf_to_node[1:]:
                torch.minimum(path_min, level_logits(ancestors), out=path_min)
            return path_min.sigmoid_()
        # fresh tensors, so the sigmoid may work in place
        node_score = Tensor.sigmoid_ if mode == 'sum' else F.logsigmoid
        scores = node_score(level_logits(leaf_to_node[0]))
        for ancestors in leaf_to_node[1:]:
            scores.add_(node_score(level_logits(ancestors)))
        return scores

"""Batched Sinkhorn-Knopp with equipartition (DNC's sub-centroid discovery).

For one class with N features and K sub-centroids, the paper computes
``Q = exp(S / eps)`` (``S``: N x K cosine similarities) and alternately normalises the
K sub-centroid marginals of ``Q^T`` to ``1/K`` and the N feature marginals to ``1/N``
(equipartition: every sub-centroid receives the same total mass). Here all classes are
solved at once on a padded tensor with a validity mask, in the log domain (``logsumexp``
instead of ``exp`` + sum), so any similarity range is safe in float32.

Internally the layout is ``[C, K, N]`` (features last, so that the long reductions run
over contiguous memory); :func:`batched_sinkhorn` takes and returns ``[C, N, K]``.
"""
import math
from typing import Optional

import torch
from torch import Tensor

__all__ = ['batched_sinkhorn', 'sinkhorn_knn', 'sinkhorn_log_knn']

# Finite stand-in for log(0) on masked entries: -inf would turn fully masked rows or
# classes into NaN (-inf - -inf) inside the normalisations.
_LOG_ZERO = -1e30


def check_sinkhorn_args(epsilon: float, iters: int) -> None:
    if not epsilon > 0:
        raise ValueError(f'epsilon must be > 0, got {epsilon}')
    if int(iters) != iters or iters < 1:
        raise ValueError(f'iters must be an integer >= 1, got {iters}')


def sinkhorn_log_knn(sim_t: Tensor, mask: Tensor, epsilon: float = 0.05,
                     iters: int = 3) -> Tensor:
    """Sinkhorn in the ``[C, K, N]`` layout, returning ``log Q`` (no argument checks).

    Args:
        sim_t (Tensor): ``[C, K, N]`` similarities, any float dtype; computed in float32
            (under autocast too).
        mask (Tensor): ``[C, N]`` bool validity.

    Returns:
        Tensor: float32 ``[C, K, N]`` log-assignments, normalised so that each valid
        feature's K entries sum (after exp) to ``1 / N_c``; padding holds a large negative
        number. The argmax over K is the hard assignment.
    """
    with torch.autocast(device_type=sim_t.device.type, enabled=False):  # float32 always
        return _sinkhorn_log_knn(sim_t.float(), mask, epsilon, iters)


def _sinkhorn_log_knn(sim_t: Tensor, mask: Tensor, epsilon: float, iters: int) -> Tensor:
    num_k = sim_t.shape[1]
    valid = mask.unsqueeze(1)  # [C, 1, N]
    log_q = (sim_t / epsilon).masked_fill(~valid, _LOG_ZERO)
    # log N_c per class (clamped so that empty classes stay finite).
    log_n = mask.sum(dim=1).clamp(min=1).float().log().view(-1, 1, 1)
    log_k = math.log(num_k)
    for _ in range(iters):
        # Sub-centroid marginals: each of the K rows sums to 1/K over the valid features.
        log_q = log_q - (torch.logsumexp(log_q, dim=2, keepdim=True) + log_k)
        # Feature marginals: each valid feature's column sums to 1/N_c.
        log_q = log_q - (torch.logsumexp(log_q, dim=1, keepdim=True) + log_n)
        # Padding became finite again; it must not enter the next sub-centroid sums.
        log_q = log_q.masked_fill(~valid, _LOG_ZERO)
    return log_q


def sinkhorn_knn(sim_t: Tensor, mask: Tensor, epsilon: float = 0.05,
                 iters: int = 3) -> Tensor:
    """:func:`batched_sinkhorn` in the ``[C, K, N]`` layout (no argument checks).

    Returns:
        Tensor: float32 ``[C, K, N]``; for each valid feature n, ``Q[c, :, n]`` sums to 1.
    """
    log_n = mask.sum(dim=1).clamp(min=1).float().log().view(-1, 1, 1)
    log_q = sinkhorn_log_knn(sim_t, mask, epsilon, iters)
    return torch.exp(log_q + log_n).masked_fill(~mask.unsqueeze(1), 0.0)


def batched_sinkhorn(sim: Tensor,
                     mask: Optional[Tensor] = None,
                     epsilon: float = 0.05,
                     iters: int = 3) -> Tensor:
    """Soft equipartitioned assignments of features to sub-centroids, all classes at once.

    Args:
        sim (Tensor): similarities ``[C, N, K]`` of (up to) N features of each class to
            that class's K sub-centroids. Any dtype; computed in float32.
        mask (Tensor, optional): ``[C, N]`` bool, True where a feature exists (padding
            is False). None means every entry is valid.
        epsilon (float): entropic temperature; ``Q = exp(S / epsilon)``. Must be > 0.
        iters (int): Sinkhorn iterations (each: sub-centroid marginals, then feature
            marginals). Must be >= 1.

    Returns:
        Tensor: float32 ``[C, N, K]``. Each valid feature's row sums to 1 (the last
        normalisation is over features, so this holds exactly up to rounding); each
        class's K columns tend to equal mass ``N_c / K`` over its ``N_c`` valid features
        as ``iters`` grows. Masked rows, and classes with no valid feature, are all zero.

    Raises:
        ValueError: on bad shapes or arguments, or a non-finite similarity at a valid
            position (NaN would otherwise spread through the whole class).
    """
    if sim.dim() != 3:
        raise ValueError(f'sim must be [C, N, K], got shape {tuple(sim.shape)}')
    check_sinkhorn_args(epsilon, iters)
    if mask is None:
        mask = torch.ones(sim.shape[:2], dtype=torch.bool, device=sim.device)
    elif mask.shape != sim.shape[:2]:
        raise ValueError(f'mask must be [C, N] = {tuple(sim.shape[:2])}, '
                         f'got {tuple(mask.shape)}')
    mask = mask.to(device=sim.device, dtype=torch.bool)
    if sim.numel() == 0:
        return sim.new_zeros(sim.shape, dtype=torch.float32)
    if not bool((torch.isfinite(sim).all(dim=-1) | ~mask).all()):
        raise ValueError('batched_sinkhorn: non-finite similarity at a valid position')
    q_t = sinkhorn_knn(sim.transpose(1, 2), mask, epsilon, iters)
    return q_t.transpose(1, 2).contiguous()

"""The (focal) tree-min loss and its gradient, computed together in one forward pass.

Written with autograd, the loss allocates some twenty tensors of the logits' full size
(``[B, V, H, W]`` at label resolution) forward and backward: selections, extrema, their
backward masks and the focal terms. On a CPU most of that time is spent faulting in fresh
memory, not computing. Here the forward pass computes the loss and, when a gradient is
wanted, ``dL/dlogits`` with in-place operations on two work buffers; ``backward`` only
scales it by the incoming gradient.

Notation, per pixel (see :class:`TreeMinLoss`): ``z`` the node logits, ``d_v`` the max logit
over v and its descendants, ``a_v`` the min logit over v and its ancestors, and

    h(x) = softplus(-x) * sigmoid(-x) ** gamma            (= -(1 - p)^gamma log p, p = sigmoid(x))
    h'(x) = -sigmoid(-x) ** gamma * (sigmoid(-x) + gamma * softplus(-x) * sigmoid(x))

A node on the pixel's root-to-leaf path costs ``h(a_v)``, any other node ``h(-d_v)``.
At exact ties the gradient is split evenly, as ``torch.amin`` / ``torch.amax`` do: the
min's among the tied path nodes; the max's level by level, among the node and those of its
children whose subtree max attains it (on trees of two levels this is amax over the
descendants; on deeper trees another subgradient of it).
"""
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable


def descendant_max(level_logits: Sequence[Tensor],
                   groups: Sequence[Tuple[Optional[Tensor], Tensor]],
                   scratch: Optional[Tensor] = None) -> List[Tensor]:
    """Per level, the max logit over each node and all its descendants.

    Args:
        level_logits: one ``[B, C_l, H, W]`` tensor per level, finest first.
        groups: per level except the coarsest, ``(order, num_children)``: the level's nodes
            grouped by parent (``ClassHierarchy.children_order``; None when already grouped)
            and each parent's number of children (``[C_{l+1}]``).
        scratch: a buffer of at least ``B * C_l * H * W`` elements for the regrouped
            levels, or None to allocate.

    Returns:
        One ``[B, C_l, H, W]`` tensor per level (the finest is ``level_logits[0]`` itself).
    """
    maxima = [level_logits[0]]
    for level, (order, num_children) in enumerate(groups):
        children = maxima[level]
        if order is not None:
            out = None if scratch is None else scratch[:children.numel()].view(children.shape)
            children = torch.index_select(children, 1, order, out=out)
        # a max over contiguous channel segments; several times faster than scatter_reduce
        segment_max = torch.segment_reduce(
            children, 'max', lengths=num_children.expand(children.shape[0], -1), axis=1,
            unsafe=True)
        maxima.append(torch.maximum(segment_max, level_logits[level + 1], out=segment_max))
    return maxima


def _off_path_terms(max_logits: Tensor, path_index: Tensor, pixel_weight: Tensor, gamma: float,
                    work: Tuple[Tensor, Tensor], grad_out: Optional[Tensor]) -> Tensor:
    """``sum w * h(-d)`` over the nodes of one level that are off the pixel's path.

    ``h(-d) = softplus(d) * sigmoid(d) ** gamma``; its derivative w.r.t. ``d`` is
    ``sigmoid(d) ** gamma * (sigmoid(d) + gamma * softplus(d) * (1 - sigmoid(d)))``.

    Args:
        max_logits: ``d``, ``[B, C, H, W]``.
        path_index: ``[B, 1, H, W]`` index of the level's node on the pixel's path.
        pixel_weight: ``[B, 1, H, W]`` (zero at ignored pixels).
        work: two contiguous ``[B, C, H, W]`` buffers, overwritten.
        grad_out: ``[B, C, H, W]`` (may be a strided view) that receives ``dL/dd``, or None.

    Returns:
        The weighted sum, a scalar.
    """
    softplus, weighted = work
    sig = grad_out if grad_out is not None else weighted
    torch.sigmoid(max_logits, out=sig)
    torch.logaddexp(max_logits, max_logits.new_zeros(()), out=softplus)  # finite for any d
    if gamma == 0:
        weighted.copy_(pixel_weight.expand_as(weighted))
    else:
        torch.pow(sig, gamma, out=weighted).mul_(pixel_weight)
    weighted.scatter_(1, path_index, 0)  # path nodes are costed by the positive branch
    total = torch.dot(softplus.view(-1), weighted.view(-1))
    if grad_out is not None:
        if gamma != 0:
            # sigmoid + gamma * softplus * (1 - sigmoid) = s * (1 - u) + u, u = gamma * softplus
            one_minus_u = softplus.mul_(-gamma).add_(1)
            grad_out.mul_(one_minus_u).add_(1).sub_(one_minus_u)
        grad_out.mul_(weighted)
    return total


def _path_terms(path_logits: Tensor, level_weight: Tensor, gamma: float,
                need_grad: bool) -> Tuple[Tensor, Optional[Tensor]]:
    """``sum w_l * h(a_l)`` over the path nodes, and its gradient w.r.t. their logits.

    Args:
        path_logits: ``[B, L, H, W]``, the logit of the path node at every level.
        level_weight: ``[B, L, H, W]`` or broadcastable: pixel weight times level factor.

    Returns:
        (the weighted sum, ``[B, L, H, W]`` gradient or None).
    """
    num_levels = path_logits.shape[1]
    # a_l = min over the path nodes of level l and above
    ancestor_min = torch.stack([path_logits[:, level:].amin(1)
                                for level in range(num_levels)], 1)
    minus = ancestor_min.neg()
    nll, q = torch.nn.functional.softplus(minus), torch.sigmoid(minus)
    focal = q.pow(gamma) if gamma != 0 else torch.ones_like(q)
    total = (nll * focal * level_weight).sum()
    if not need_grad:
        return total, None
    grad_min = -focal * (q + gamma * nll * (1 - q)) * level_weight  # h'(a) * w
    grad = torch.zeros_like(path_logits)
    for level in range(num_levels):
        above = path_logits[:, level:]
        winners = (above == ancestor_min[:, level:level + 1]).to(grad.dtype)
        share = grad_min[:, level:level + 1] / winners.sum(1, keepdim=True)
        grad[:, level:].addcmul_(winners, share)
    return total, grad


def _route_through_max(grads: List[Tensor], maxima: Sequence[Tensor],
                       level_logits: Sequence[Tensor], parents: Sequence[Tensor],
                       work: Tuple[Tensor, Tensor]):
    """Turns ``dL/dd_l`` (in ``grads``, written in place) into ``dL/dz_l``, top-down.

    ``d_p = max(z_p, max of d_c over p's children c)``: ``dL/dd_p`` goes to ``z_p`` and to
    the children's ``d_c`` that attain the max, split evenly among them.
    """
    for level in range(len(grads) - 1, 0, -1):
        grad, maximum = grads[level], maxima[level]
        parent = parents[level - 1]
        fine = maxima[level - 1]
        child_wins, child_grad = (buffer.view(-1)[:fine.numel()].view(fine.shape)
                                  for buffer in work)
        torch.index_select(maximum, 1, parent, out=child_wins)
        torch.eq(fine, child_wins, out=child_wins)  # 1.0 / 0.0 in the buffer's dtype
        self_wins = level_logits[level] == maximum
        winners = self_wins.to(grad.dtype).scatter_add_(
            1, parent.view(1, -1, 1, 1).expand_as(fine), child_wins)
        grad.div_(winners)
        torch.index_select(grad, 1, parent, out=child_grad)
        grads[level - 1].addcmul_(child_grad, child_wins)
        grad.mul_(self_wins)


class TreeMinFunction(torch.autograd.Function):
    """``TreeMinFunction.apply(logits, path_index, pixel_weight, tables, gamma, need_grad)``.

    Args:
        logits: ``[B, V, H, W]`` contiguous, float32 or float64, nodes in hierarchy layout
            (:class:`TreeMinLoss` promotes half-precision logits to float32).
        path_index: ``[B, L, H, W]`` int64: the index, within each level, of the pixel's path
            node (any valid index at ignored pixels).
        pixel_weight: ``[B, 1, H, W]``: zero at ignored pixels; includes the loss weight and
            the division by the number of valid pixels.
        tables: ``(level_slices, parents, groups, level_factors)``: each level's channel
            slice, the parent index tensors (within the next level), the children grouping
            of :func:`descendant_max` and each level's factor (``1 / C_l`` or 1).
        gamma: the focal exponent.
        need_grad: whether to compute the gradient (False under ``no_grad``).

    Returns the scalar loss.
    """

    @staticmethod
    def forward(ctx, logits: Tensor, path_index: Tensor, pixel_weight: Tensor, tables,
                gamma: float, need_grad: bool) -> Tensor:
        # Under autocast (``--amp`` on CUDA, bf16 on the CPU) every operation here must stay
        # in the logits' dtype: the buffers are written with ``out=`` and the focal factors
        # underflow in half precision.
        with torch.autocast(device_type=logits.device.type, enabled=False):
            return TreeMinFunction._forward(ctx, logits, path_index, pixel_weight, tables,
                                            gamma, need_grad)

    @staticmethod
    def _forward(ctx, logits: Tensor, path_index: Tensor, pixel_weight: Tensor, tables,
                 gamma: float, need_grad: bool) -> Tensor:
        level_slices, parents, groups, level_factors = tables
        level_logits = [logits[:, level_slice] for level_slice in level_slices]
        largest = max(level.shape[1] for level in level_logits)
        per_buffer = logits.shape[0] * largest * logits.shape[2] * logits.shape[3]
        work_memory = logits.new_empty(2, per_buffer)

        maxima = descendant_max(level_logits, groups, scratch=work_memory[0])
        grad = torch.empty_like(logits) if need_grad else None
        grads = [grad[:, level_slice] for level_slice in level_slices] if need_grad else None

        total = logits.new_zeros(())
        for level, max_logits in enumerate(maxima):
            work = tuple(work_memory[i, :max_logits.numel()].view(max_logits.shape)
                         for i in range(2))
            total += _off_path_terms(max_logits, path_index[:, level:level + 1],
                                     pixel_weight * level_factors[level], gamma, work,
                                     grads[level] if need_grad else None)

        factors = torch.tensor(level_factors, dtype=logits.dtype, device=logits.device)
        path_logits = torch.cat([z.gather(1, path_index[:, level:level + 1])
                                 for level, z in enumerate(level_logits)], 1)
        path_total, path_grad = _path_terms(path_logits, pixel_weight * factors.view(1, -1, 1, 1),
                                            gamma, need_grad)
        total += path_total

        if need_grad:
            _route_through_max(grads, maxima, level_logits, parents,
                               tuple(work_memory[i] for i in range(2)))
            for level, level_grad in enumerate(grads):
                level_grad.scatter_add_(1, path_index[:, level:level + 1],
                                        path_grad[:, level:level + 1])
            ctx.save_for_backward(grad)
        return total

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_loss: Tensor):
        (grad, ) = ctx.saved_tensors
        # The loss is usually back-propagated with a gradient of exactly 1: skip a
        # full-size multiplication then.
        if not (grad_loss.device.type == 'cpu' and float(grad_loss) == 1.0):
            grad = grad * grad_loss
        return grad, None, None, None, None, None

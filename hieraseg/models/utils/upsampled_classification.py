"""Sub-centroid classification of bilinearly upsampled embeddings, exact and memory-lean.

A DNC head with ``classify_upsampled`` classifies its embeddings ``[B, D, h, w]`` upsampled
bilinearly to ``(H, W)``. Done in one piece (:func:`classify_upsampled` with
``lean=False``, the reference) that materialises the upsampled embeddings ``[B, D, H, W]``,
their feature-norm and unit versions and the similarities ``[B*H*W, V*K]``, and autograd
keeps all of them for backward: several GB at Cityscapes size (D=512, V*K=260, 512x1024,
batch 2).

The lean path (the default) computes the same logits ``[B, H, W, V]`` in chunks of output
rows:

- forward, without autograd: for each chunk, the input rows it reads are interpolated
  (explicit gathers and weights, computed as PyTorch's ``upsample_bilinear2d`` computes
  them, so a chunk needs only its rows), classified by the classifier's own ``forward``,
  and written into the logits; only the logits are kept.
- backward: each chunk is recomputed with autograd, under the forward's autocast state,
  and its gradients w.r.t. the embedding rows it read and the classifier's learnable
  parameters (feature LayerNorm, logit normalisation) are accumulated in float32. The
  sub-centroids are buffers and get none.

The values equal the reference to float rounding (the interpolation computes
``x0 + w1 * (x1 - x0)`` per axis, not ``w0 * x0 + w1 * x1``); the cost is one more
interpolation and classifier forward in backward. Chunks hold at most
:data:`CHUNK_BYTES` of working memory unless ``chunk_pixels`` says how many output pixels
(batch included) a chunk covers (the DNC heads leave it automatic).
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

__all__ = ['classify_upsampled', 'auto_chunk_pixels', 'linear_source_weights', 'CHUNK_BYTES']

# Working memory of one chunk (the recomputation in backward, with its gradients).
CHUNK_BYTES = 256 * 2**20


def auto_chunk_pixels(dim: int, num_scores: int, num_logits: int,
                      budget: Optional[int] = None) -> int:
    """Output pixels per chunk whose backward recomputation fits in ``budget`` bytes
    (default :data:`CHUNK_BYTES`).

    Per pixel, about ten float32 ``D``-vectors (the gathered and interpolated rows, the
    feature-norm and unit embeddings and their gradients), three ``V*K`` similarity
    vectors (values, amax bookkeeping, gradient) and eight ``V``-vectors (scores, logits,
    normalisation, gradients).
    """
    per_pixel = 4 * (10 * dim + 3 * num_scores + 8 * num_logits)
    return max(1, (CHUNK_BYTES if budget is None else budget) // per_pixel)


def linear_source_weights(in_size: int, out_size: int, align_corners: bool,
                          device=None, dtype=torch.float32) -> Tuple[Tensor, ...]:
    """1-D linear interpolation as ``upsample_bilinear2d`` does it along one axis.

    Returns ``(index0, index1, weight0, weight1)``, each ``[out_size]``: output ``i`` is
    ``weight0[i] * x[index0[i]] + weight1[i] * x[index1[i]]``. The source coordinate is
    ``(i + 0.5) * in / out - 0.5`` clamped at 0 (``align_corners=False``) or
    ``i * (in - 1) / (out - 1)`` (True), computed in ``dtype`` (float32 for float32 and
    half inputs, as PyTorch's accumulation type).
    """
    dst = torch.arange(out_size, device=device, dtype=dtype)
    if align_corners:
        scale = float(torch.tensor(in_size - 1, dtype=dtype) / (out_size - 1)) \
            if out_size > 1 else 0.0
        src = dst * scale
    else:
        scale = float(torch.tensor(in_size, dtype=dtype) / out_size)
        src = ((dst + 0.5) * scale - 0.5).clamp(min=0)
    index0 = src.floor().long().clamp(max=in_size - 1)
    weight1 = (src - index0.to(dtype)).clamp(0, 1)
    index1 = (index0 + 1).clamp(max=in_size - 1)
    return index0, index1, 1 - weight1, weight1


class _Plan:
    """The interpolation of ``[B, h, w, D]`` embeddings to ``(H, W)``, by output rows."""

    def __init__(self, emb: Tensor, size: Sequence[int], align_corners: bool):
        batch, dim, height, width = emb.shape
        self.batch, self.dim, self.in_size, self.size = batch, dim, (height, width), tuple(size)
        self.acc_dtype = torch.float64 if emb.dtype == torch.float64 else torch.float32
        rows = linear_source_weights(height, size[0], align_corners, dtype=self.acc_dtype)
        # the input rows each output row reads, on the host (no device sync per chunk)
        self.row_index = (rows[0].tolist(), rows[1].tolist())
        self.rows = [t.to(emb.device) for t in rows]
        self.cols = [t.to(emb.device) for t in linear_source_weights(
            width, size[1], align_corners, dtype=self.acc_dtype)]
        # the dtype F.interpolate gives under the ambient autocast (the input's, so far)
        self.out_dtype = F.interpolate(emb.new_zeros(1, 1, 2, 2), size=(3, 3),
                                       mode='bilinear', align_corners=align_corners).dtype

    def window(self, start: int, stop: int) -> Tuple[int, int]:
        """Input rows ``[lo, hi)`` that output rows ``[start, stop)`` read."""
        return self.row_index[0][start], self.row_index[1][stop - 1] + 1

    def interpolate(self, window: Tensor, lo: int, start: int, stop: int) -> Tensor:
        """Output rows ``[start, stop)`` ``[B, R, W, D]`` from input rows ``window``
        ``[B, hi - lo, w, D]`` (rows ``lo`` onwards)."""
        window = window.to(self.acc_dtype).contiguous()
        i0, i1, _, a1 = (t[start:stop] for t in self.rows)
        j0, j1, _, b1 = self.cols
        # x0 + w1 * (x1 - x0): one pass where w0 * x0 + w1 * x1 takes three
        cols = torch.lerp(window.index_select(2, j0), window.index_select(2, j1),
                          b1[:, None])  # [B, rows, W, D]
        out = torch.lerp(cols.index_select(1, i0 - lo), cols.index_select(1, i1 - lo),
                         a1[:, None, None])
        return out.to(self.out_dtype)


def _classify_rows(classifier: nn.Module, plan: _Plan, window: Tensor, lo: int, start: int,
                   stop: int) -> Tensor:
    """Logits ``[B, R, W, V]`` of output rows ``[start, stop)`` from the input rows
    ``window`` ``[B, hi - lo, w, D]`` that they read (:meth:`_Plan.window`)."""
    up = plan.interpolate(window, lo, start, stop)
    logits = classifier(up.reshape(-1, plan.dim))
    return logits.view(plan.batch, stop - start, plan.size[1], -1)


def _chunks(height: int, rows_per_chunk: int):
    return [(s, min(s + rows_per_chunk, height)) for s in range(0, height, rows_per_chunk)]


def _forward_chunks(classifier, plan: _Plan, emb_hwd: Tensor, rows_per_chunk: int) -> Tensor:
    out = None
    for start, stop in _chunks(plan.size[0], rows_per_chunk):
        lo, hi = plan.window(start, stop)
        logits = _classify_rows(classifier, plan, emb_hwd[:, lo:hi], lo, start, stop)
        if out is None:
            out = logits.new_empty(plan.batch, *plan.size, logits.shape[-1])
        out[:, start:stop] = logits
    return out


class _LeanClassify(torch.autograd.Function):
    """Logits ``[B, H, W, V]``; keeps only the embeddings and the parameters for backward."""

    @staticmethod
    def forward(ctx, emb, classifier, plan, rows_per_chunk, *params):
        device = emb.device.type
        ctx.autocast = (device, torch.is_autocast_enabled(device),
                        torch.get_autocast_dtype(device))
        ctx.classifier, ctx.plan, ctx.rows_per_chunk = classifier, plan, rows_per_chunk
        ctx.save_for_backward(emb, *params)
        return _forward_chunks(classifier, plan, emb.permute(0, 2, 3, 1), rows_per_chunk)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        emb, *params = ctx.saved_tensors
        plan = ctx.plan
        emb_hwd = emb.detach().permute(0, 2, 3, 1)
        grad_emb = torch.zeros(emb_hwd.shape, dtype=plan.acc_dtype, device=emb.device)
        grad_params = [torch.zeros_like(p, dtype=plan.acc_dtype) for p in params]
        device, enabled, dtype = ctx.autocast
        for start, stop in _chunks(plan.size[0], ctx.rows_per_chunk):
            lo, hi = plan.window(start, stop)
            window = emb_hwd[:, lo:hi].detach().requires_grad_()
            with torch.enable_grad(), torch.autocast(device, dtype=dtype, enabled=enabled):
                logits = _classify_rows(ctx.classifier, plan, window, lo, start, stop)
            grads = torch.autograd.grad(logits, [window] + params, grad_out[:, start:stop],
                                        allow_unused=True)
            grad_emb[:, lo:hi] += grads[0]
            for total, grad in zip(grad_params, grads[1:]):
                if grad is not None:
                    total += grad
        grad_emb = grad_emb.permute(0, 3, 1, 2).to(emb.dtype)
        grad_params = [g.to(p.dtype) for g, p in zip(grad_params, params)]
        return (grad_emb, None, None, None, *grad_params)


def classify_upsampled(classifier: nn.Module,
                       emb: Tensor,
                       size: Sequence[int],
                       align_corners: bool = False,
                       lean: bool = True,
                       chunk_pixels: Optional[int] = None) -> Tensor:
    """Logits ``[B, H, W, V]`` (pixels first, as the classifier gives them) of embeddings
    ``[B, D, h, w]`` upsampled bilinearly to ``size`` ``(H, W)`` and classified pixel by
    pixel by ``classifier`` (``[N, D]`` -> ``[N, V]``, e.g. a :class:`SubCentroidClassifier`).

    Args:
        lean (bool): classify in chunks of output rows and recompute them in backward
            (module docstring); False: the reference, in one piece.
        chunk_pixels (int, optional): output pixels (batch included) per chunk, rounded
            down to whole rows (at least one); None: :func:`auto_chunk_pixels`.
    """
    if chunk_pixels is not None and (not isinstance(chunk_pixels, int)
                                     or isinstance(chunk_pixels, bool) or chunk_pixels < 1):
        raise ValueError('classify_upsampled: chunk_pixels must be an integer >= 1 or None '
                         f'(automatic), got {chunk_pixels!r}')
    if not lean:
        up = F.interpolate(emb, size=tuple(size), mode='bilinear', align_corners=align_corners)
        batch, dim, height, width = up.shape
        logits = classifier(up.permute(0, 2, 3, 1).reshape(-1, dim))
        return logits.view(batch, height, width, -1)
    plan = _Plan(emb, size, align_corners)
    if chunk_pixels is None:
        num_logits = classifier.num_classes
        chunk_pixels = auto_chunk_pixels(plan.dim, num_logits * classifier.num_sub_centroids,
                                         num_logits)
    rows_per_chunk = max(1, chunk_pixels // (plan.batch * plan.size[1]))
    params = [p for p in classifier.parameters() if p.requires_grad]
    if not torch.is_grad_enabled() or not (emb.requires_grad or params):
        return _forward_chunks(classifier, plan, emb.permute(0, 2, 3, 1), rows_per_chunk)
    return _LeanClassify.apply(emb, classifier, plan, rows_per_chunk, *params)

"""Post-hoc temperature scaling per hierarchy level, and the data pass it needs.

One scalar ``T_l`` per level divides the logits that level ``l``'s probability is computed
from (:mod:`hieraseg.models.utils.level_probabilities`); ``T_l`` is fitted on held-out
pixels by minimising the negative log-likelihood (NLL) of that level's probabilities:

- ``'leaf_softmax'`` and ``'level_softmax'``: the categorical NLL of the true level-l class,
  ``-log p_T(y_l)`` (Guo et al. 2017's objective, per level; for a flat model a parent's
  probability is the sum of its leaves' softmax at ``T_l``);
- ``'node_sigmoid'`` (HSSN): the node sigmoids are no distribution over a level, so the NLL is
  the Bernoulli one of the confidence the metric reports, the chosen node's sigmoid ``s``:
  ``-(c log s + (1 - c) log(1 - s))`` with ``c`` = whether the level-l prediction is right.

Argmax is unchanged by construction: the prediction never reads the temperature.
The minimum is found on a log-spaced grid of T in [0.02, 50], refined by golden-section
search between the grid neighbours of the best point (the NLL is not convex in T for the
summed-leaf parents, so no gradient method is trusted alone).
"""
import copy
import hashlib
import math
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmseg.models.segmentors.base import BaseSegmentor
from torch import Tensor

from hieraseg.models.utils.level_probabilities import level_probabilities
from .calibration import level_calibration_counts, sample_level_confidences

T_MIN, T_MAX = 0.02, 50.0


def level_probability_mode(model) -> str:
    """The ``level_probability`` a segmentor reports: its ``test_cfg``'s / head's for
    hieraseg's segmentors, ``'leaf_softmax'`` for a plain mmseg segmentor."""
    if hasattr(model, 'level_test_settings'):
        return model.level_test_settings()[0]
    return 'leaf_softmax'


def predict_with_logits(model, data_batch: dict) -> Tuple[list, List[Tensor]]:
    """One forward pass: the model's own predictions (as ``test_step`` returns them) and, per
    image, the logits its level probabilities are computed from, at the original image size
    (``[C_0, H, W]`` leaf logits of a flat model, ``[V, H, W]`` node logits of a
    hierarchical one), untempered."""
    with torch.no_grad():
        data = model.data_preprocessor(data_batch, False)
        samples = data['data_samples']
        raw = model.inference(data['inputs'], [sample.metainfo for sample in samples])
        # mmseg's own crop / unflip / resize, without the segmentor's decoding
        plain = BaseSegmentor.postprocess_result(model, raw, copy.deepcopy(samples))
        predictions = model.postprocess_result(raw, samples)
    return predictions, [sample.seg_logits.data for sample in plain]


@dataclass
class CalibrationPass:
    """What one pass over a data set collects (:func:`run_calibration_pass`).

    Attributes:
        level_counts: every level's ``[C_l, B, 3]`` calibration sums over all labelled pixels.
        prediction_digests: a SHA-1 of every image's predicted leaf map, in order.
        logits: ``[C, N]`` the sampled pixels' logits (float32), or None.
        labels: ``[N]`` their leaf labels; ``predictions``: ``[N]`` their predicted leaves.
    """
    level_counts: List[np.ndarray]
    prediction_digests: List[str] = field(default_factory=list)
    logits: Optional[Tensor] = None
    labels: Optional[Tensor] = None
    predictions: Optional[Tensor] = None

    @property
    def num_sampled(self) -> int:
        return 0 if self.labels is None else len(self.labels)


def run_calibration_pass(model, dataloader, hierarchy, num_bins: int = 15,
                         pixels_per_image: int = 0, ignore_index: int = 255,
                         seed: int = 0) -> CalibrationPass:
    """Predicts every image of ``dataloader`` with ``model`` (its ``test_cfg`` temperatures
    apply), sums the calibration counts of all labelled pixels and, if
    ``pixels_per_image > 0``, keeps that many random labelled pixels of every image (logits,
    label, prediction) for fitting."""
    generator = torch.Generator().manual_seed(seed)
    counts, digests, kept = None, [], []
    for data_batch in dataloader:
        predictions, logits = predict_with_logits(model, data_batch)
        for sample, image_logits in zip(predictions, logits):
            pred = sample.pred_sem_seg.data[0]
            label = sample.gt_sem_seg.data[0].to(pred)
            digests.append(hashlib.sha1(pred.cpu().numpy().tobytes()).hexdigest())
            image_counts = level_calibration_counts(
                sample_level_confidences(sample, hierarchy), pred, label, hierarchy, num_bins,
                ignore_index)
            counts = image_counts if counts is None else [
                a + b for a, b in zip(counts, image_counts)]
            if pixels_per_image > 0:
                valid = (label != ignore_index).flatten().nonzero().squeeze(1).cpu()
                pick = valid[torch.randperm(len(valid), generator=generator)[:pixels_per_image]]
                pick = pick.to(image_logits.device)
                kept.append((image_logits.flatten(1)[:, pick].float().cpu(),
                             label.flatten()[pick].long().cpu(),
                             pred.flatten()[pick].long().cpu()))
    if counts is None:
        raise ValueError('the data set has no image to calibrate on')
    result = CalibrationPass(counts, digests)
    if kept:
        result.logits = torch.cat([k[0] for k in kept], dim=1)
        result.labels = torch.cat([k[1] for k in kept])
        result.predictions = torch.cat([k[2] for k in kept])
    return result


def level_nll(logits: Tensor, labels: Tensor, predictions: Tensor, hierarchy, mode: str,
              level: int, temperature: float) -> float:
    """The mean NLL of level ``level`` at ``temperature`` (module docstring) over pixels.

    Args:
        logits: ``[C, N]`` leaf or node logits; labels, predictions: ``[N]`` leaf ids.
    """
    probs = level_probabilities(logits.double(), hierarchy, mode, level, temperature)
    table = hierarchy.leaf_to_level[level]
    truth, predicted = table[labels], table[predictions]
    tiny = 1e-12
    if mode == 'node_sigmoid':
        chosen = probs.gather(0, predicted.unsqueeze(0)).squeeze(0)
        correct = (predicted == truth).double()
        return float(-(correct * chosen.clamp_min(tiny).log()
                       + (1 - correct) * (1 - chosen).clamp_min(tiny).log()).mean())
    return float(-probs.gather(0, truth.unsqueeze(0)).clamp_min(tiny).log().mean())


def fit_temperature(nll, grid_size: int = 49, refine_steps: int = 40) -> float:
    """The temperature in [T_MIN, T_MAX] minimising ``nll(T)``: the best of a log-spaced grid,
    refined by golden-section search in log T between its neighbours."""
    grid = np.geomspace(T_MIN, T_MAX, grid_size)
    values = [nll(float(t)) for t in grid]
    best = int(np.argmin(values))
    low = math.log(grid[max(best - 1, 0)])
    high = math.log(grid[min(best + 1, grid_size - 1)])
    ratio = (math.sqrt(5) - 1) / 2
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    fa, fb = nll(math.exp(a)), nll(math.exp(b))
    for _ in range(refine_steps):
        if fa <= fb:
            high, b, fb = b, a, fa
            a = high - ratio * (high - low)
            fa = nll(math.exp(a))
        else:
            low, a, fa = a, b, fb
            b = low + ratio * (high - low)
            fb = nll(math.exp(b))
    candidates = [(values[best], float(grid[best])), (fa, math.exp(a)), (fb, math.exp(b))]
    return min(candidates)[1]


def fit_level_temperatures(collected: CalibrationPass, hierarchy, mode: str) -> List[float]:
    """One temperature per level (finest first) from the sampled pixels of a pass."""
    if not collected.num_sampled:
        raise ValueError('no labelled pixel was sampled to fit the temperatures on')
    return [
        fit_temperature(lambda t, level=level: level_nll(
            collected.logits, collected.labels, collected.predictions, hierarchy, mode, level,
            t))
        for level in range(hierarchy.num_levels)
    ]


def changed_predictions(before: Sequence[str], after: Sequence[str]) -> List[int]:
    """Indices of the images whose prediction digests differ between two passes."""
    if len(before) != len(after):
        raise ValueError(f'the passes saw {len(before)} and {len(after)} images')
    return [i for i, (a, b) in enumerate(zip(before, after)) if a != b]

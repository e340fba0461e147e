"""Expected calibration error (ECE) and class-wise ECE, accumulable over batches.

Definitions (SPEC section 6). Confidences are split into ``B`` equal-width bins over
[0, 1]: bin ``b`` holds ``b / B <= confidence < (b + 1) / B``, the last bin also 1.0.
For the ``N`` labelled pixels,

    ECE = sum over bins of |S_b| / N * |acc(S_b) - conf(S_b)|
        = sum over bins of |correct(S_b) - confidence sum(S_b)| / N,

where ``conf`` is the predicted class's probability and ``acc`` the share of correct
predictions in the bin. Class-wise ECE (cwECE) is the ECE of every class ``c`` computed over
the pixels *predicted* as ``c``, averaged with equal weight over the classes that were
predicted for at least one labelled pixel (a class never predicted has no pixels to be
calibrated on and is left out of the mean, rather than counted as 0).

Everything reduces to three sums per (class, bin): pixel count, confidence sum and correct
count (:func:`calibration_counts`); these add up over images, batches and processes, so a
metric keeps ``[C, B, 3]`` numbers per level and image, never the pixels.
"""
from collections import OrderedDict
from typing import Dict, List, Sequence

import numpy as np
import torch

COUNT, CONFIDENCE, CORRECT = 0, 1, 2


def _as_tensor(values, what: str, dtype=None) -> torch.Tensor:
    tensor = torch.as_tensor(values)
    if tensor.dim() != 1:
        raise ValueError(f'{what} must be 1-D (one value per pixel), got shape '
                         f'{tuple(tensor.shape)}')
    return tensor if dtype is None else tensor.to(dtype)


ROUNDING = 1e-5


def confidence_bins(confidence: torch.Tensor, num_bins: int) -> torch.Tensor:
    """The bin index (long) of each confidence in [0, 1]; 1.0 goes to the last bin. Values
    outside [0, 1] by at most ``ROUNDING`` (a float32 softmax can sum to 1.0000001) count
    as 0 or 1."""
    if not isinstance(num_bins, int) or isinstance(num_bins, bool) or num_bins < 1:
        raise ValueError(f'num_bins must be a positive integer, got {num_bins!r}')
    if confidence.numel() and (bool(confidence.min() < -ROUNDING)
                               or bool(confidence.max() > 1 + ROUNDING)):
        raise ValueError(f'confidences must lie in [0, 1], got values in '
                         f'[{float(confidence.min())}, {float(confidence.max())}]')
    return (confidence * num_bins).long().clamp_(min=0, max=num_bins - 1)


def calibration_counts(confidence, correct, predicted, num_classes: int,
                       num_bins: int = 15) -> np.ndarray:
    """Per (predicted class, bin): ``[count, confidence sum, correct count]``.

    Args:
        confidence: ``[N]`` float, the predicted class's probability, ignore pixels removed.
        correct: ``[N]`` bool, whether the prediction is right.
        predicted: ``[N]`` the predicted class ids, ``0 <= id < num_classes``.

    Returns:
        float64 ``[num_classes, num_bins, 3]``; sum over axis 0 for the class-agnostic ECE.
    """
    confidence = _as_tensor(confidence, 'confidence').double()
    correct = _as_tensor(correct, 'correct')
    predicted = _as_tensor(predicted, 'predicted').long()
    if not (confidence.shape == correct.shape == predicted.shape):
        raise ValueError(f'confidence, correct and predicted must have one value per pixel, '
                         f'got {len(confidence)}, {len(correct)}, {len(predicted)}')
    if correct.dtype != torch.bool:
        raise ValueError(f'correct must be a bool tensor, got {correct.dtype}')
    if predicted.numel() and (int(predicted.min()) < 0 or int(predicted.max()) >= num_classes):
        raise ValueError(f'predicted class ids must lie in 0..{num_classes - 1}, got '
                         f'{int(predicted.min())}..{int(predicted.max())}')
    index = predicted * num_bins + confidence_bins(confidence, num_bins)
    size = num_classes * num_bins
    counts = torch.stack([
        torch.bincount(index, minlength=size).double(),
        torch.bincount(index, weights=confidence, minlength=size),
        torch.bincount(index, weights=correct.double(), minlength=size),
    ], dim=-1)
    return counts.view(num_classes, num_bins, 3).cpu().numpy()


def ece_from_counts(counts: np.ndarray) -> float:
    """ECE of ``[B, 3]`` bin sums (nan when there is no pixel)."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts[:, COUNT].sum()
    if total == 0:
        return float('nan')
    return float(np.abs(counts[:, CORRECT] - counts[:, CONFIDENCE]).sum() / total)


def classwise_ece_from_counts(counts: np.ndarray) -> float:
    """Class-wise ECE of ``[C, B, 3]`` sums: the mean ECE of the classes predicted at least
    once (nan when none was)."""
    counts = np.asarray(counts, dtype=np.float64)
    totals = counts[..., COUNT].sum(-1)
    predicted = totals > 0
    if not predicted.any():
        return float('nan')
    gaps = np.abs(counts[..., CORRECT] - counts[..., CONFIDENCE]).sum(-1)
    return float((gaps[predicted] / totals[predicted]).mean())


def expected_calibration_error(confidence, correct, num_bins: int = 15) -> float:
    """ECE of 1-D float confidences and 1-D bool correctness (ignore pixels already
    removed); module docstring. Returns a fraction in [0, 1] (nan for no pixel)."""
    confidence = _as_tensor(confidence, 'confidence')
    one_class = torch.zeros(len(confidence), dtype=torch.long)
    return ece_from_counts(calibration_counts(confidence, correct, one_class, 1, num_bins)[0])


def classwise_expected_calibration_error(confidence, correct, predicted, num_classes: int,
                                         num_bins: int = 15) -> float:
    """Class-wise ECE (module docstring): per predicted class, averaged over the classes
    predicted at least once."""
    return classwise_ece_from_counts(
        calibration_counts(confidence, correct, predicted, num_classes, num_bins))


def level_calibration_counts(confidences: torch.Tensor, pred: torch.Tensor,
                             label: torch.Tensor, hierarchy, num_bins: int,
                             ignore_index: int = 255) -> List[np.ndarray]:
    """One image's ``[C_l, B, 3]`` sums at every level.

    Args:
        confidences: ``[L, H, W]``, the probability of each level's predicted class.
        pred: ``[H, W]`` the predicted leaf; its level-l ancestor is the level-l prediction.
        label: ``[H, W]`` leaf labels or ``ignore_index``.
    """
    if confidences.shape != (hierarchy.num_levels, ) + tuple(pred.shape):
        raise ValueError(f'level confidences of shape {tuple(confidences.shape)} do not fit '
                         f'{hierarchy.num_levels} levels of a {tuple(pred.shape)} prediction')
    valid = label != ignore_index
    counts = []
    for level in range(hierarchy.num_levels):
        predicted = hierarchy.labels_at_level(pred[valid], level, ignore_index)
        truth = hierarchy.labels_at_level(label[valid], level, ignore_index)
        counts.append(calibration_counts(confidences[level][valid], predicted == truth,
                                         predicted, hierarchy.level_sizes[level], num_bins))
    return counts


def summed_level_counts(per_image: Sequence[Sequence[np.ndarray]]) -> List[np.ndarray]:
    """Every level's ``[C_l, B, 3]`` sums over images."""
    return [sum(image[level] for image in per_image) for level in range(len(per_image[0]))]


def calibration_metrics(level_counts: Sequence[np.ndarray],
                        level_names: Sequence[str]) -> Dict[str, float]:
    """``ECE_<level>`` and ``cwECE_<level>`` in percent (2 decimals) from every level's
    ``[C_l, B, 3]`` sums (:func:`summed_level_counts`)."""
    metrics = OrderedDict()
    for counts, name in zip(level_counts, level_names):
        key = name.replace(' ', '_')
        metrics[f'ECE_{key}'] = round(ece_from_counts(counts.sum(0)) * 100, 2)
        metrics[f'cwECE_{key}'] = round(classwise_ece_from_counts(counts) * 100, 2)
    return metrics


def _data(data_sample, key: str) -> torch.Tensor:
    """The tensor of field ``key`` of a SegDataSample, or of its ``to_dict()`` form."""
    if isinstance(data_sample, dict):
        return data_sample[key]['data']
    return getattr(data_sample, key).data


def sample_level_confidences(data_sample, hierarchy) -> torch.Tensor:
    """``[L, H, W]`` confidences of one prediction (a SegDataSample or its dict form).

    The model's ``level_confidences`` where it wrote them (hieraseg's segmentors, with the
    temperatures of their ``test_cfg``); else, for a flat mmseg segmentor, computed from its
    ``[C_0, H, W]`` leaf logits ``seg_logits`` with ``'leaf_softmax'``
    (:mod:`hieraseg.models.utils.level_probabilities`).
    """
    from hieraseg.models.utils.level_probabilities import level_confidences
    if 'level_confidences' in data_sample:
        return _data(data_sample, 'level_confidences')
    if 'pred_levels' in data_sample:
        raise ValueError('calibration needs the per-level confidences of a hierarchical '
                         'model (level_confidences), which this prediction has not (test-time '
                         'augmentation does not compute them)')
    if 'seg_logits' not in data_sample:
        raise ValueError('calibration needs the model\'s probabilities: this prediction has '
                         'neither level_confidences nor seg_logits (mmseg\'s test-time '
                         'augmentation keeps neither)')
    logits = _data(data_sample, 'seg_logits')
    if logits.shape[0] != hierarchy.num_leaves:
        raise ValueError(f'calibration of a flat model needs {hierarchy.num_leaves} leaf '
                         f'logit channels in seg_logits, got {tuple(logits.shape)}')
    leaf = _data(data_sample, 'pred_sem_seg').squeeze(0)
    return level_confidences(logits, leaf, hierarchy, 'leaf_softmax')

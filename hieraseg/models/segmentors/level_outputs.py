"""What hieraseg's segmentors add to every prediction: the levels and their confidences."""
from typing import Optional, Sequence, Tuple

import torch
from mmengine.structures import PixelData
from torch import Tensor

from hieraseg.models.utils.level_probabilities import (check_level_probability_mode,
                                                       check_level_temperatures,
                                                       level_confidences)


def add_level_predictions(sample, hierarchy) -> None:
    """Sets ``sample.pred_levels`` (PixelData ``[L, H, W]``) from ``sample.pred_sem_seg``:
    row l is the level-l ancestor of the predicted leaf (row 0 the leaf itself)."""
    leaf = sample.pred_sem_seg.data[0]  # [H, W]
    levels = torch.stack(
        [hierarchy.labels_at_level(leaf, level) for level in range(hierarchy.num_levels)])
    sample.set_data(dict(pred_levels=PixelData(data=levels)))


def level_test_settings(test_cfg, hierarchy, default_mode: str,
                        modes: Sequence[str]) -> Tuple[str, Optional[list]]:
    """``(level_probability, level_temperatures)`` of a segmentor's ``test_cfg``, checked.

    ``test_cfg.level_probability`` (default ``default_mode``) must be one of ``modes``;
    ``test_cfg.level_temperatures`` (default None: no scaling) one positive number per level,
    finest first (``tools/calibrate_temperature.py`` writes it).
    """
    test_cfg = test_cfg or {}
    mode = check_level_probability_mode(test_cfg.get('level_probability', default_mode),
                                        'model.test_cfg.level_probability')
    if mode not in modes:
        raise ValueError(f'model.test_cfg.level_probability={mode!r} does not apply to this '
                         f'model; choose one of {tuple(modes)}')
    temperatures = check_level_temperatures(test_cfg.get('level_temperatures'),
                                            hierarchy.num_levels,
                                            'model.test_cfg.level_temperatures')
    return mode, temperatures


def add_level_confidences(sample, logits: Tensor, hierarchy, mode: str,
                          temperatures: Optional[Sequence[float]]) -> None:
    """Sets ``sample.level_confidences`` (PixelData ``[L, H, W]``, float): the probability
    the model gives each level's predicted class (the ancestors of ``sample.pred_sem_seg``),
    from its ``[C, H, W]`` leaf or node ``logits`` (:mod:`level_probabilities`)."""
    leaf = sample.pred_sem_seg.data[0]
    confidences = level_confidences(logits, leaf, hierarchy, mode, temperatures)
    sample.set_data(dict(level_confidences=PixelData(data=confidences)))

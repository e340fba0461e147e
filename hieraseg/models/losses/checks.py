"""Argument checks shared by the hierarchical losses (clear errors at build time)."""
import math
import numbers

REDUCTION_MODES = ('level_mean', 'node_sum')


def check_ignore_index(hierarchy, ignore_index, what: str):
    if not isinstance(ignore_index, numbers.Integral) or isinstance(ignore_index, bool):
        raise ValueError(f'{what}: ignore_index must be an int, got {ignore_index!r}')
    if 0 <= ignore_index < hierarchy.num_leaves:
        raise ValueError(f'{what}: ignore_index {ignore_index} is a leaf class id of the '
                         f'hierarchy {hierarchy.name!r} (0..{hierarchy.num_leaves - 1})')


def check_weight(value, what: str) -> float:
    """A loss weight or scale must be a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
            not math.isfinite(value) or value < 0:
        raise ValueError(f'{what} must be a finite number >= 0, got {value!r}')
    return float(value)


def check_gamma(gamma, what: str) -> float:
    """A focal exponent must be a finite number >= 0."""
    if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or \
            not math.isfinite(gamma) or gamma < 0:
        raise ValueError(f'{what}: gamma must be a finite number >= 0, got {gamma!r}')
    return float(gamma)


def check_reduction_mode(mode, what: str) -> str:
    if mode not in REDUCTION_MODES:
        raise ValueError(f'{what}: reduction_mode must be one of {REDUCTION_MODES}, '
                         f'got {mode!r}')
    return mode

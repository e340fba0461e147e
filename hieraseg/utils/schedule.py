"""The training length of a config and everything measured in its iterations.

``tools/train.py --max-iters N`` rescales an iteration-based config with
:func:`scale_schedule`; :func:`check_schedule_fits` refuses a config whose learning-rate
schedule ends before or after its training (a ``train_cfg.max_iters`` changed alone).
"""
import math
from typing import Iterable, Iterator, List, Optional, Tuple

from mmengine.config import Config

#: Set ``allow_schedule_mismatch = True`` in a config whose schedule deliberately ends
#: before or after its training.
ALLOW_KEY = 'allow_schedule_mismatch'

# Scheduler arguments that are lengths (in the scheduler's unit), besides begin / end.
_SCHEDULER_LENGTHS = ('T_max', 'step_size', 'total_steps', 'milestones', 'periods')
# Hook arguments counted in training iterations (when the run is iteration-based).
_HOOK_ITERATIONS = {
    'CheckpointHook': ('interval', 'save_begin'),
    'ResumableCheckpointHook': ('interval', 'save_begin'),
    'SinkhornClusteringHook': ('begin', ),
    'EMAHook': ('begin_iter', ),
}

Change = Tuple[str, object, object]  # (config key, old value, new value)


def is_iteration_based(train_cfg: Optional[dict]) -> bool:
    """Whether ``train_cfg`` describes mmengine's IterBasedTrainLoop."""
    train_cfg = train_cfg or {}
    kind = str(train_cfg.get('type', ''))
    if kind:
        return kind.split('.')[-1] == 'IterBasedTrainLoop'
    return train_cfg.get('by_epoch', True) is False


def schedulers(cfg: Config) -> List[Tuple[str, dict]]:
    """``(config key, scheduler config)`` of ``param_scheduler`` (a dict or a list)."""
    value = cfg.get('param_scheduler')
    if isinstance(value, dict):
        return [('param_scheduler', value)]
    return [(f'param_scheduler.{i}', s) for i, s in enumerate(value or [])
            if isinstance(s, dict)]


def _iteration_schedulers(cfg: Config, by_epoch: bool) -> Iterator[Tuple[str, dict]]:
    for key, scheduler in schedulers(cfg):
        if bool(scheduler.get('by_epoch', True)) == by_epoch:
            yield key, scheduler


def _hooks(cfg: Config) -> Iterator[Tuple[str, dict]]:
    for name, hook in (cfg.get('default_hooks') or {}).items():
        if isinstance(hook, dict):
            yield f'default_hooks.{name}', hook
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        if isinstance(hook, dict):
            yield f'custom_hooks.{i}', hook


def _triplet_losses(node, where: str) -> Iterator[str]:
    """Keys of the TreeTripletLoss configs (with a weight ramp) under ``node``."""
    if isinstance(node, dict):
        if str(node.get('type', '')).split('.')[-1] == 'TreeTripletLoss' and \
                node.get('ramp', 'cosine') is not None:
            yield where
        for key, value in node.items():
            yield from _triplet_losses(value, f'{where}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _triplet_losses(value, f'{where}.{i}')


def scale_schedule(cfg: Config, max_iters: int, keep: Iterable[str] = ()) -> List[str]:
    """Sets ``train_cfg.max_iters = max_iters`` and scales everything counted in training
    iterations by ``max_iters / old max_iters``, in place; returns one log line per setting.

    Scaled: ``begin`` / ``end`` (and lengths such as ``T_max``, ``milestones``) of every
    scheduler with ``by_epoch=False`` (warm-ups included), ``train_cfg.val_interval`` (and
    ``dynamic_intervals``), the checkpoint hook's ``interval`` / ``save_begin``, and the
    iteration arguments of known hooks (``SinkhornClusteringHook.begin``, ...). A value equal
    to the old ``max_iters`` becomes ``max_iters`` exactly, other non-zero values are rounded
    and stay at least 1, so a warm-up that ends where the decay begins still does. The
    tree-triplet loss ramps its weight over ``train_cfg.max_iters`` (read from the runner),
    so it follows without a change; it gets a log line too.

    Args:
        keep: config keys (``--cfg-options`` keys) the user sets explicitly; they are left
            out of the log, since the user's value replaces the scaled one.

    Raises:
        ValueError: for an epoch-based config, a ``max_iters`` below 1, or a scheduler that
            the new length would leave with no iteration.
    """
    train_cfg = cfg.get('train_cfg')
    if not is_iteration_based(train_cfg):
        raise ValueError(
            '--max-iters: this config trains by epochs (train_cfg.max_epochs='
            f'{(train_cfg or {}).get("max_epochs")}), and an epoch holds as many iterations '
            'as the data set has batches. Set the number of epochs with --cfg-options '
            'train_cfg.max_epochs=N; schedulers without an `end` follow it, a warm-up keeps '
            'its length in epochs')
    if not isinstance(max_iters, int) or max_iters < 1:
        raise ValueError(f'--max-iters must be a positive integer, got {max_iters!r}')
    old = train_cfg.get('max_iters')
    if not old:
        raise ValueError('--max-iters: the config has no train_cfg.max_iters to scale from')
    keep = set(keep)
    changes: List[Change] = [('train_cfg.max_iters', old, max_iters)]

    def scaled(value):
        if isinstance(value, (list, tuple)):
            return type(value)(scaled(v) for v in value)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value == 0 \
                or math.isinf(value):
            return value
        return max_iters if value == old else max(1, int(round(value * max_iters / old)))

    def scale(node: dict, key: str, where: str):
        if key in node and scaled(node[key]) != node[key]:
            changes.append((f'{where}.{key}', node[key], scaled(node[key])))
            node[key] = scaled(node[key])

    train_cfg['max_iters'] = max_iters
    for where, scheduler in _iteration_schedulers(cfg, by_epoch=False):
        begin, end = scheduler.get('begin', 0), scheduler.get('end')
        for key in ('begin', 'end') + _SCHEDULER_LENGTHS:
            scale(scheduler, key, where)
        if end is not None and not math.isinf(end) and \
                scheduler['end'] <= scheduler.get('begin', 0):
            raise ValueError(
                f'--max-iters {max_iters}: {where} ({scheduler.get("type")}) covers iterations '
                f'{begin}-{end} of {old}, which would leave it none; use a larger '
                '--max-iters')
    scale(train_cfg, 'val_interval', 'train_cfg')
    if train_cfg.get('dynamic_intervals'):
        scale(train_cfg, 'dynamic_intervals', 'train_cfg')
    for where, hook in _hooks(cfg):
        kind = str(hook.get('type', '')).split('.')[-1]
        if hook.get('by_epoch', False) and kind.endswith('CheckpointHook'):
            continue  # counts epochs (a checkpoint per epoch in an iteration loop)
        for key in _HOOK_ITERATIONS.get(kind, ()):
            scale(hook, key, where)
    lines = [f'--max-iters {max_iters}: {key} {before} -> {after}'
             for key, before, after in changes if key not in keep]
    lines += [f'--max-iters {max_iters}: {where} (TreeTripletLoss) ramps its weight over '
              f'train_cfg.max_iters, now {old} -> {max_iters} iterations'
              for where in _triplet_losses(cfg.get('model'), 'model')]
    return lines


def check_schedule_fits(cfg: Config):
    """Raises ValueError if the learning-rate schedule ends before or after the training.

    For an iteration-based run, the schedulers with ``by_epoch=False`` are compared with
    ``train_cfg.max_iters``; for an epoch-based run, those with ``by_epoch=True`` with
    ``train_cfg.max_epochs``. A scheduler without ``end`` runs to the end of training
    (mmengine's Runner gives it that end). The schedule does not fit if some scheduler ends
    after the training, or if every scheduler ends before it. A config that means it sets
    ``allow_schedule_mismatch = True``.
    """
    if cfg.get(ALLOW_KEY, False):
        return
    train_cfg = cfg.get('train_cfg') or {}
    by_epoch = not is_iteration_based(train_cfg)
    unit, length_key = ('epochs', 'max_epochs') if by_epoch else ('iterations', 'max_iters')
    length = train_cfg.get(length_key)
    if not isinstance(length, (int, float)) or isinstance(length, bool):
        return
    ends = [(where, s.get('type'), s.get('end')) for where, s in
            _iteration_schedulers(cfg, by_epoch)]
    if not ends:
        return
    if any(end is None or math.isinf(end) for _, _, end in ends):
        explicit = [e for e in ends if e[2] is not None and not math.isinf(e[2])]
        later = [e for e in explicit if e[2] > length]
        if not later:
            return
        where, kind, end = max(later, key=lambda e: e[2])
    else:
        where, kind, end = max(ends, key=lambda e: e[2])
        if end == length:
            return
    when = 'after' if end > length else 'before'
    effect = ('the training stops before the schedule does (the learning rate never reaches '
              'its final value)' if end > length else
              f'the last {length - end} {unit} train at the final learning rate')
    fix = ('--max-iters N (scales the schedule, validation and checkpoint intervals with '
           'the run) instead of train_cfg.max_iters, ' if not by_epoch else '')
    raise ValueError(
        f'the learning-rate schedule ends {when} the training: {where} ({kind}) ends at '
        f'{unit[:-1]} {end} but train_cfg.{length_key} is {length}, so {effect}. Train with '
        f'{fix}or set {where}.end={length}, or, if this is deliberate, set '
        f'{ALLOW_KEY} = True in the config (or --cfg-options {ALLOW_KEY}=True)')

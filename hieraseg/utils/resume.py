"""Choosing the checkpoint that ``--resume`` (without a file) continues from.

mmengine reads ``<work_dir>/last_checkpoint`` and, when that file is missing (a run killed
after the checkpoint was renamed into place but before ``last_checkpoint`` was written),
starts again from iteration 0 without saying so. Here every checkpoint of the work dir is a
candidate, ``last_checkpoint``'s included: the newest one that loads completely wins, and if
checkpoints exist but none loads, that is an error, never a silent restart.
"""
import os
import os.path as osp
import re
from typing import List, Optional, Tuple

from .atomic_files import PARTIAL_SUFFIX
from .checkpoint import load_checkpoint_file

# What mmengine's CheckpointHook writes (default filename_tmpl); best_*.pth lack the
# optimizer and are not resumed from.
CHECKPOINT_NAME = re.compile(r'^(iter|epoch)_(\d+)\.pth$')
REQUIRED_KEYS = ('meta', 'state_dict', 'message_hub')


class NoResumableCheckpointError(RuntimeError):
    """Checkpoints exist in the work dir but none of them loads completely."""


def checkpoint_candidates(work_dir: str) -> List[str]:
    """The work dir's checkpoints, newest first: ``iter_N.pth`` / ``epoch_N.pth`` and the
    file ``last_checkpoint`` names, ordered by N (the last number of the name), then by
    modification time."""
    paths = set()
    if osp.isdir(work_dir):
        paths.update(osp.join(work_dir, name) for name in os.listdir(work_dir)
                     if CHECKPOINT_NAME.match(name))
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if named and not named.endswith(PARTIAL_SUFFIX) and osp.isfile(named):
            paths.add(named)

    def newest_first(path: str) -> Tuple[int, float]:
        numbers = re.findall(r'\d+', osp.basename(path))
        return (int(numbers[-1]) if numbers else -1, osp.getmtime(path))

    return sorted(paths, key=newest_first, reverse=True)


def check_loads(path: str) -> Optional[str]:
    """None if ``path`` loads and holds what mmengine resumes from, else why not."""
    try:
        checkpoint = load_checkpoint_file(path, map_location='cpu')
    except Exception as error:  # a truncated, foreign or refused file fails in many ways
        return f'{type(error).__name__}: {error}'
    if not isinstance(checkpoint, dict):
        return f'holds a {type(checkpoint).__name__}, not a checkpoint dict'
    missing = [key for key in REQUIRED_KEYS if key not in checkpoint]
    if missing:
        return f'lacks {missing} (weights only; resume needs a full training checkpoint)'
    return None


def checkpoint_seed(path: str) -> Optional[int]:
    """The run seed a checkpoint was written with (``meta['seed']``), read without loading
    its tensors (memory-mapped); None if it has none.

    Raises:
        UntrustedCheckpointError: the file needs more than safe types (see
            :mod:`hieraseg.utils.checkpoint`), so it is refused before anything is built.
    """
    checkpoint = load_checkpoint_file(path, map_location='cpu', mmap=True)
    seed = (checkpoint.get('meta') or {}).get('seed') if isinstance(checkpoint, dict) else None
    return None if seed is None else int(seed)


def find_resumable_checkpoint(work_dir: str) -> Tuple[Optional[str], List[str]]:
    """``(newest checkpoint that loads, [one line per newer one skipped and why])``;
    ``(None, [])`` where the work dir holds no checkpoint.

    Raises:
        NoResumableCheckpointError: checkpoints exist but none loads (naming each and why).
    """
    skipped = []
    for path in checkpoint_candidates(work_dir):
        problem = check_loads(path)
        if problem is None:
            return path, skipped
        skipped.append(f'{path}: {problem}')
    if skipped:
        raise NoResumableCheckpointError(
            f'--resume: none of the {len(skipped)} checkpoints in {work_dir} loads, so the '
            'run would start again from iteration 0. Refusing; move them away to start '
            'afresh, or resume from a file with --resume FILE.\n  ' + '\n  '.join(skipped))
    return None, []

"""Writing and reading mmengine checkpoints safely.

Writing: mmengine writes a checkpoint straight to its final name, so a run killed while
saving leaves a truncated ``iter_N.pth`` that ``--resume`` would pick up. hieraseg replaces
mmengine's local file backend with one that writes a temporary file beside the target and
renames it into place (``os.replace``, atomic on POSIX): a checkpoint exists whole or not at
all.

Reading: torch 2.6 made ``torch.load(weights_only=True)`` the default, and mmengine 0.10.7's
local loader does not say otherwise, so every full mmengine checkpoint (which pickles the
message hub, the config and numpy values besides the weights) fails to load with "Weights
only load failed". hieraseg registers a local loader that passes ``weights_only=False``.

Leftovers: a process killed while writing leaves its ``<name>.<pid>.partial`` file behind.
:func:`remove_stale_partials` deletes those of processes that no longer run; the backend
calls it after every successful write, and ``tools/train.py`` at the start of a run.

Trust: that unpickles arbitrary objects, exactly as torch < 2.6 did. Local checkpoints are
the ones the user's own training runs wrote (or chose to load); do not point ``load_from`` /
``--resume`` / ``tools/test.py`` at files you do not trust.
"""
import glob
import os
import os.path as osp
from pathlib import Path
from typing import List, Union

import torch
from mmengine.fileio.backends import LocalBackend, register_backend
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.utils import mkdir_or_exist


PARTIAL_SUFFIX = '.partial'


def _partial_name(filepath: str, pid: int) -> str:
    return f'{filepath}.{pid}{PARTIAL_SUFFIX}'


def _process_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def remove_stale_partials(folder: str) -> List[str]:
    """Deletes the ``*.<pid>.partial`` files in ``folder`` whose writer no longer runs.

    Returns the deleted paths. Files of running processes (another rank, another job
    writing to the same folder) are left alone, and so are names without a pid.
    """
    removed = []
    for path in sorted(glob.glob(osp.join(glob.escape(folder), '*' + PARTIAL_SUFFIX))):
        pid = osp.basename(path)[:-len(PARTIAL_SUFFIX)].rpartition('.')[2]
        if not pid.isdigit() or (int(pid) != os.getpid() and _process_runs(int(pid))):
            continue
        try:
            os.remove(path)
            removed.append(path)
        except FileNotFoundError:
            pass  # removed meanwhile
    return removed


def write_atomically(data: bytes, filepath: str) -> None:
    """Writes ``data`` to ``filepath`` through a partial file renamed into place: a reader
    (or a run killed at any moment) sees the old file or the new one, never a mix."""
    mkdir_or_exist(osp.dirname(osp.abspath(filepath)))
    partial = _partial_name(filepath, os.getpid())
    try:
        with open(partial, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, filepath)
    finally:
        if osp.exists(partial):
            os.remove(partial)


class AtomicLocalBackend(LocalBackend):
    """mmengine's local backend whose ``put`` never leaves a partly written file.

    After a successful write it removes the partial files that killed writers left in the
    same folder (:func:`remove_stale_partials`).
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        filepath = str(filepath)
        write_atomically(obj, filepath)
        remove_stale_partials(osp.dirname(osp.abspath(filepath)))


def load_trusted_local_checkpoint(filename: str, map_location=None):
    """A local file path -> the unpickled checkpoint (``weights_only=False``)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    return torch.load(filename, map_location=map_location, weights_only=False)


register_backend('local', AtomicLocalBackend, force=True, prefixes='')
CheckpointLoader.register_scheme(prefixes='', loader=load_trusted_local_checkpoint, force=True)

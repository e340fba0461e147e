"""Files that exist whole or not at all.

mmengine writes a checkpoint straight to its final name, so a run killed while saving leaves
a truncated ``iter_N.pth`` that ``--resume`` would pick up. Here a file is written to
``<name>.<pid>.partial`` beside the target and renamed into place (``os.replace``, atomic on
POSIX). A process killed while writing leaves its partial file behind;
:func:`remove_stale_partials` deletes those of processes that no longer run.

:class:`AtomicLocalBackend` is mmengine's local file backend writing that way. It is not
registered when hieraseg is imported (mmengine's ``'local'`` backend stays mmengine's):
:func:`atomic_backend_args` registers it under its own name, :data:`ATOMIC_BACKEND`, for
the runs that ask for it (hieraseg's ``ResumableCheckpointHook`` does).
"""
import glob
import os
import os.path as osp
from pathlib import Path
from typing import Callable, List, Optional, Union

from mmengine.fileio.backends import LocalBackend, register_backend
from mmengine.fileio.backends.registry_utils import backends
from mmengine.utils import mkdir_or_exist

__all__ = ['PARTIAL_SUFFIX', 'ATOMIC_BACKEND', 'AtomicLocalBackend', 'atomic_backend_args',
           'remove_stale_partials', 'write_atomically', 'write_file_atomically']

PARTIAL_SUFFIX = '.partial'
ATOMIC_BACKEND = 'hieraseg_atomic_local'


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


def write_file_atomically(filepath: str, write: Callable[[str], None]) -> None:
    """Calls ``write(partial_path)``, then renames the partial file to ``filepath``: a
    reader (or a run killed at any moment) sees the old file or the new one, never a mix.
    The partial file is removed if ``write`` fails."""
    mkdir_or_exist(osp.dirname(osp.abspath(filepath)))
    partial = _partial_name(filepath, os.getpid())
    try:
        write(partial)
        os.replace(partial, filepath)
    finally:
        if osp.exists(partial):
            os.remove(partial)


def write_atomically(data: bytes, filepath: str) -> None:
    """Writes ``data`` to ``filepath`` (flushed to disk) through a partial file renamed
    into place (:func:`write_file_atomically`)."""

    def write(partial: str) -> None:
        with open(partial, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    write_file_atomically(filepath, write)


class AtomicLocalBackend(LocalBackend):
    """mmengine's local backend whose ``put`` never leaves a partly written file.

    After a successful write it removes the partial files that killed writers left in the
    same folder (:func:`remove_stale_partials`).
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        filepath = str(filepath)
        write_atomically(obj, filepath)
        remove_stale_partials(osp.dirname(osp.abspath(filepath)))


def atomic_backend_args(backend_args: Optional[dict] = None) -> Optional[dict]:
    """``backend_args`` that make mmengine's ``get_file_backend`` (and so
    ``Runner.save_checkpoint``) write local files with :class:`AtomicLocalBackend`.

    Registers the backend under :data:`ATOMIC_BACKEND` on first use. Arguments that
    already name a backend (a remote store, say) are returned unchanged.
    """
    if backend_args and backend_args.get('backend') not in (None, 'local', ATOMIC_BACKEND):
        return backend_args
    if ATOMIC_BACKEND not in backends:
        register_backend(ATOMIC_BACKEND, AtomicLocalBackend)
    return dict(backend_args or {}, backend=ATOMIC_BACKEND)

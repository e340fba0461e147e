"""Loading checkpoints without letting them run code.

A ``.pth`` file is a pickle, and a pickle can call any function while it is read. torch
>= 2.6 loads with ``weights_only=True`` by default: the unpickler rebuilds tensors,
containers and numbers and refuses every other global. A full mmengine checkpoint holds a
few more types (the message hub's ``HistoryBuffer`` objects, NumPy arrays, dtypes and
scalars in logs and random states), which that default refuses. hieraseg loads with
``weights_only=True`` and exactly those types (:func:`checkpoint_safe_globals`), allowed
for the duration of each load only (``torch.serialization.safe_globals``): every
checkpoint written by hieraseg, mmseg or mmpretrain loads, and none can run code.

A checkpoint that needs any other type is refused with :class:`UntrustedCheckpointError`,
which names the type. Loading it the old way (``weights_only=False``: its pickle may run
code) is an explicit opt-in, logged with a warning at every such load:
``--trust-checkpoint`` on hieraseg's tools, ``trust_checkpoint = True`` in a config, or
``HIERASEG_TRUST_CHECKPOINT=1`` in the environment.

Importing hieraseg changes nothing in mmengine or torch. hieraseg's tools call
:func:`use_safe_checkpoint_loading`, which makes mmengine's loader of local files
(``load_from``, ``--resume``, ``Runner.load_checkpoint``, ``init_cfg`` with a local path)
:func:`load_checkpoint_file`; a script of your own can call it too.
"""
import logging
import os
import os.path as osp
import pickle
import re
import zipfile
from typing import List, Optional

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import CheckpointLoader

__all__ = ['TRUST_ENV', 'TRUST_OPTION', 'UntrustedCheckpointError', 'checkpoint_safe_globals',
           'checkpoint_trusted', 'load_checkpoint_file', 'set_checkpoint_trust',
           'use_safe_checkpoint_loading']

TRUST_ENV = 'HIERASEG_TRUST_CHECKPOINT'
TRUST_OPTION = '--trust-checkpoint'
_TRUE = ('1', 'true', 'yes', 'on')
_HISTORY_STATISTICS = ('min', 'max', 'current', 'mean')
_trusted = False


class UntrustedCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs types outside :func:`checkpoint_safe_globals` and loading it
    with pickle was not allowed."""


def _numpy_globals() -> list:
    """NumPy's array and scalar rebuilders under both module names (``numpy.core`` before
    NumPy 2, ``numpy._core`` since), so a file written under either version loads."""
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # NumPy 1
        from numpy.core.multiarray import _reconstruct, scalar
    return [(func, f'{module}.multiarray.{func.__name__}') for func in (_reconstruct, scalar)
            for module in ('numpy.core', 'numpy._core')]


def _history_buffer_statistic(owner, name: str):
    """Stands in for ``getattr`` while a checkpoint is read. A HistoryBuffer pickles its
    statistics methods as ``getattr(HistoryBuffer, 'mean')``; that lookup, for mmengine's
    four statistics, is answered, and no other."""
    if owner is HistoryBuffer and name in _HISTORY_STATISTICS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(f'getattr({owner!r}, {name!r}) in a checkpoint: only '
                                 f'HistoryBuffer.{{{",".join(_HISTORY_STATISTICS)}}} is allowed')


def checkpoint_safe_globals() -> list:
    """The types, beyond torch's own weights-only set, that checkpoints of mmengine,
    mmseg, mmpretrain and hieraseg runs contain: mmengine's ``HistoryBuffer`` (the message
    hub's logged scalars) and NumPy arrays, numeric dtypes and scalars (logs, random
    states), as ``torch.serialization.safe_globals`` takes them.

    Rebuilding them calls no function given by the file: an array is rebuilt from its
    dtype, shape and bytes, a HistoryBuffer from its attribute dict, and the one ``getattr``
    a HistoryBuffer pickles may only name its own statistics methods.
    """
    codes = np.typecodes['AllInteger'] + np.typecodes['AllFloat'] + '?'
    dtypes = sorted({type(np.dtype(code)) for code in codes}, key=lambda t: t.__name__)
    lookup = [(_history_buffer_statistic, f'{module}.getattr')
              for module in ('builtins', '__builtin__')]
    return [*_numpy_globals(), np.ndarray, np.dtype, HistoryBuffer, *lookup, *dtypes]


def set_checkpoint_trust(trusted: bool) -> None:
    """Allows (True) or forbids (False, the default) loading checkpoints that need more
    than :func:`checkpoint_safe_globals`, for the rest of the process."""
    global _trusted
    _trusted = bool(trusted)


def checkpoint_trusted() -> bool:
    """Whether :func:`set_checkpoint_trust` or ``HIERASEG_TRUST_CHECKPOINT`` allows
    loading checkpoints with pickle."""
    return _trusted or os.environ.get(TRUST_ENV, '').strip().lower() in _TRUE


def _refused_globals(filename: str, error: Exception) -> List[str]:
    """The globals of ``filename`` that the safe load refused, best effort."""
    allowed = {g[1] if isinstance(g, tuple) else f'{g.__module__}.{g.__qualname__}'
               for g in checkpoint_safe_globals()}
    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
        names = [name for name in found if name not in allowed]
    except Exception:  # not the zip format: read the name from torch's message
        names = []
    return names or sorted(set(re.findall(r'GLOBAL ([\w.]+)', str(error)))) or ['?']


def _untrusted_message(filename: str, names: List[str]) -> str:
    return (f'checkpoint {filename} was not loaded: it needs {", ".join(names)}, beyond the '
            'tensors, containers, numbers, NumPy arrays and mmengine HistoryBuffers that '
            'checkpoints of hieraseg, mmseg and mmpretrain hold. Reading it with pickle could '
            'run code stored in the file. If you trust where it comes from, load it with '
            f'{TRUST_OPTION} (tools), trust_checkpoint = True (config) or {TRUST_ENV}=1.')


def load_checkpoint_file(filename: str, map_location=None, mmap: bool = False):
    """Reads a local checkpoint file without running code from it.

    Args:
        filename: path of a file written by ``torch.save``.
        map_location: as ``torch.load``'s.
        mmap: memory-map the tensors instead of reading them (files in torch's zip
            format; older files are read whole).

    Raises:
        FileNotFoundError: no such file.
        UntrustedCheckpointError: the file needs types beyond
            :func:`checkpoint_safe_globals` and :func:`checkpoint_trusted` is False.
            With trust the file is read with pickle enabled and a warning is logged.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    mmap = mmap and zipfile.is_zipfile(filename)
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return torch.load(filename, map_location=map_location, weights_only=True,
                              mmap=mmap)
    except pickle.UnpicklingError as error:
        if 'Weights only load failed' not in str(error):
            raise  # a damaged file, not a refused type
        names = _refused_globals(filename, error)
    if not checkpoint_trusted():
        raise UntrustedCheckpointError(_untrusted_message(filename, names))
    print_log(f'loading checkpoint {filename} with pickle enabled ({TRUST_OPTION}): it '
              f'needs {", ".join(names)}; code stored in the file runs now', logger='current',
              level=logging.WARNING)
    return torch.load(filename, map_location=map_location, weights_only=False, mmap=mmap)


def _mmengine_local_loader(filename: str, map_location=None):
    return load_checkpoint_file(filename, map_location=map_location)


def use_safe_checkpoint_loading(trusted: Optional[bool] = None) -> None:
    """Makes mmengine read local checkpoints with :func:`load_checkpoint_file`, for the
    rest of the process; ``trusted`` (if given) sets :func:`set_checkpoint_trust`.

    hieraseg's tools call it before building the Runner. Remote checkpoints
    (``http(s)://``, ``open-mmlab://``, ...) keep mmengine's loaders, which use torch's
    default ``weights_only=True``.
    """
    if trusted is not None:
        set_checkpoint_trust(trusted)
    CheckpointLoader.register_scheme(prefixes='', loader=_mmengine_local_loader, force=True)

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

Trust: that unpickles arbitrary objects, exactly as torch < 2.6 did. Local checkpoints are
the ones the user's own training runs wrote (or chose to load); do not point ``load_from`` /
``--resume`` / ``tools/test.py`` at files you do not trust.
"""
import os
import os.path as osp
from pathlib import Path
from typing import Union

import torch
from mmengine.fileio.backends import LocalBackend, register_backend
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.utils import mkdir_or_exist


class AtomicLocalBackend(LocalBackend):
    """mmengine's local backend whose ``put`` never leaves a partly written file."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        filepath = str(filepath)
        mkdir_or_exist(osp.dirname(osp.abspath(filepath)))
        partial = f'{filepath}.{os.getpid()}.partial'
        try:
            with open(partial, 'wb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(partial, filepath)
        finally:
            if osp.exists(partial):
                os.remove(partial)


def load_trusted_local_checkpoint(filename: str, map_location=None):
    """A local file path -> the unpickled checkpoint (``weights_only=False``)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    return torch.load(filename, map_location=map_location, weights_only=False)


register_backend('local', AtomicLocalBackend, force=True, prefixes='')
CheckpointLoader.register_scheme(prefixes='', loader=load_trusted_local_checkpoint, force=True)

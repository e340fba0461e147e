"""Loading mmengine checkpoints on torch >= 2.6.

torch 2.6 made ``torch.load(weights_only=True)`` the default, and mmengine 0.10.7's local
loader does not say otherwise, so every full mmengine checkpoint (which pickles the message
hub, the config and numpy values besides the weights) fails to load with "Weights only load
failed". hieraseg registers a local loader that passes ``weights_only=False``.

Trust: this unpickles arbitrary objects, exactly as torch < 2.6 did. Local checkpoints are
the ones the user's own training runs wrote (or chose to load); do not point ``load_from`` /
``--resume`` / ``tools/test.py`` at files you do not trust.
"""
import os.path as osp

import torch
from mmengine.runner.checkpoint import CheckpointLoader


def load_trusted_local_checkpoint(filename: str, map_location=None):
    """A local file path -> the unpickled checkpoint (``weights_only=False``)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    return torch.load(filename, map_location=map_location, weights_only=False)


CheckpointLoader.register_scheme(prefixes='', loader=load_trusted_local_checkpoint, force=True)

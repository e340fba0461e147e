"""The global random state of a process, as one picklable value, and of every rank.

Training draws from four global generators: Python's ``random`` (some transforms), NumPy's
legacy global generator (mmcv's transforms, e.g. ``RandomFlip``), torch's CPU generator
(dropout, ``randperm``, the DataLoader's base seed) and torch's generator of every CUDA
device. Saving and restoring all four at a checkpoint makes a resumed run draw what the
uninterrupted run drew. Generators that modules own (the tree-triplet sampler, the DNC
memory's subsampling) are saved with the modules or derived from the iteration.
"""
import random
from typing import Any, Dict, List

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_world_size

RandomState = Dict[str, Any]


def get_random_state() -> RandomState:
    """This process's generators: ``python``, ``numpy``, ``torch`` (a uint8 tensor) and
    ``cuda`` (one uint8 tensor per device; empty without CUDA or before its first use)."""
    cuda = []
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        cuda = [state.clone() for state in torch.cuda.get_rng_state_all()]
    return dict(python=random.getstate(), numpy=np.random.get_state(),
                torch=torch.get_rng_state().clone(), cuda=cuda)


def set_random_state(state: RandomState) -> None:
    """Restores what :func:`get_random_state` returned.

    Raises:
        KeyError: naming the generator a saved state lacks.
        ValueError: if it holds CUDA states for more devices than this machine has.
    """
    missing = [key for key in ('python', 'numpy', 'torch', 'cuda') if key not in state]
    if missing:
        raise KeyError(f'saved random state lacks the generators {missing}')
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'].cpu())
    if state['cuda']:
        if not torch.cuda.is_available() or torch.cuda.device_count() < len(state['cuda']):
            available = torch.cuda.device_count() if torch.cuda.is_available() else 0
            raise ValueError(f'saved random state has {len(state["cuda"])} CUDA '
                             f'generators, this process sees {available} CUDA devices')
        torch.cuda.set_rng_state_all([s.cpu() for s in state['cuda']])


def gather_random_states() -> List[RandomState]:
    """Every rank's :func:`get_random_state`, indexed by rank (a collective call: every
    rank must call it)."""
    state = get_random_state()
    if get_world_size() == 1:
        return [state]
    return all_gather_object(state)

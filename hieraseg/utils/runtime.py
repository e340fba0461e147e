"""Running OpenMMLab configs written for CUDA clusters on a machine without CUDA.

Without CUDA: the process group uses gloo instead of nccl, SyncBN becomes BN, DDP wraps a CPU
module (``device_ids=None``) and mixed precision is turned off. With CUDA nothing changes.
"""
import gc
import os
import subprocess
from typing import Any, List

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log

from .checkpoint import use_safe_checkpoint_loading

DEFAULT_MASTER_PORT = '29500'


def _replace_norm_types(node: Any, old: str, new: str, where: str, found: List[str]):
    """Replaces ``type=old`` by ``type=new`` in every dict under ``node``, in place."""
    if isinstance(node, dict):
        if node.get('type') == old:
            node['type'] = new
            found.append(where)
        for key, value in node.items():
            _replace_norm_types(value, old, new, f'{where}.{key}', found)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            _replace_norm_types(value, old, new, f'{where}[{i}]', found)


def adapt_cfg_to_device(cfg: Config, amp: bool = False) -> bool:
    """Adapts ``cfg`` in place to a machine without CUDA; does nothing where CUDA exists.

    Returns whether mixed precision can be used (``amp`` and CUDA present).
    """
    if torch.cuda.is_available():
        return amp
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    converted: List[str] = []
    _replace_norm_types(cfg.get('model'), 'SyncBN', 'BN', 'model', converted)
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    print_log(
        'No CUDA device: using the gloo backend for distributed runs and BN in place of '
        f'SyncBN ({len(converted)} norm layers converted)'
        + ('; --amp ignored, training in float32' if amp else ''),
        logger='current')
    return False


def init_cpu_distributed(launcher: str):
    """Initialises a gloo process group from the launcher's environment.

    mmengine's own initialisation calls ``torch.cuda.set_device`` and fails without CUDA.
    Once a process group exists, mmengine's Runner uses it as it is. Sets ``RANK``,
    ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` as mmengine would.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        return
    env = os.environ
    if launcher == 'pytorch':
        pass  # torchrun sets every variable
    elif launcher == 'slurm':
        env['RANK'] = env['SLURM_PROCID']
        env['WORLD_SIZE'] = env['SLURM_NTASKS']
        env['LOCAL_RANK'] = env.get('SLURM_LOCALID', '0')
        if 'MASTER_ADDR' not in env:
            env['MASTER_ADDR'] = subprocess.getoutput(
                f'scontrol show hostname {env["SLURM_NODELIST"]} | head -n1').strip()
        env.setdefault('MASTER_PORT', DEFAULT_MASTER_PORT)
    elif launcher == 'mpi':
        env['RANK'] = env['OMPI_COMM_WORLD_RANK']
        env['WORLD_SIZE'] = env['OMPI_COMM_WORLD_SIZE']
        env['LOCAL_RANK'] = env['OMPI_COMM_WORLD_LOCAL_RANK']
        if 'MASTER_ADDR' not in env:
            raise KeyError('the mpi launcher needs MASTER_ADDR in the environment')
        env.setdefault('MASTER_PORT', DEFAULT_MASTER_PORT)
    else:
        raise ValueError(f'unknown launcher {launcher!r}')
    torch_dist.init_process_group(backend='gloo')


def prepare_runtime(cfg: Config, launcher: str, amp: bool = False,
                    trust_checkpoint: bool = False) -> bool:
    """Everything a tool does before building the Runner; returns whether to use AMP.

    Local checkpoints are then read without running code from them
    (:func:`~hieraseg.utils.checkpoint.use_safe_checkpoint_loading`), unless
    ``trust_checkpoint`` (``--trust-checkpoint``) or the config's ``trust_checkpoint``
    allows pickle for files that need it.
    """
    use_safe_checkpoint_loading(trusted=trust_checkpoint or bool(cfg.get('trust_checkpoint')))
    use_amp = adapt_cfg_to_device(cfg, amp)
    if launcher != 'none' and not torch.cuda.is_available():
        init_cpu_distributed(launcher)
    return use_amp


def finish_distributed():
    """Tears the process group down once the Runner (and its DDP model) is gone.

    Left to interpreter exit, gloo's threads can be destroyed while still joinable and the
    process aborts ("terminate called without an active exception") after a run that
    finished its work; destroying the group while a DDP model still uses it can block.
    Callers drop the Runner first; its DDP reducer sits in reference cycles, so the collector
    runs here, while the group still exists (freed after the teardown, it aborted 2-process
    runs at exit).
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        gc.collect()
        torch_dist.barrier()
        torch_dist.destroy_process_group()

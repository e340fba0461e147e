"""Data loader settings that PyTorch would refuse only once training runs."""
import inspect
import os
from typing import Iterator, List, Optional, Tuple

from mmengine.config import Config

from .config_checks import DATALOADERS, segmentor_heads

_BATCH_NORMS = ('BN', 'BN2d', 'SyncBN', 'MMSyncBN', 'NaiveSyncBN')


def launcher_world_size(launcher: str) -> int:
    """The number of processes the launcher started (1 without a launcher)."""
    if launcher == 'none':
        return 1
    env = os.environ
    for key in ('WORLD_SIZE', 'SLURM_NTASKS', 'OMPI_COMM_WORLD_SIZE'):
        if env.get(key, '').isdigit():
            return int(env[key])
    return 1


def turn_off_persistent_workers(cfg: Config) -> List[str]:
    """``persistent_workers=True`` needs worker processes: with ``num_workers=0`` PyTorch
    refuses to build the loader. Turns it off in such loaders; returns a log line each."""
    lines = []
    for name in DATALOADERS:
        loader = cfg.get(name)
        if isinstance(loader, dict) and loader.get('num_workers', 0) == 0 and \
                loader.get('persistent_workers', False):
            loader['persistent_workers'] = False
            lines.append(f'{name}: num_workers=0, so persistent_workers is turned off (it '
                         'keeps worker processes alive and there are none)')
    return lines


def _image_level_branch(head: dict, scope: Optional[str]) -> Optional[str]:
    """What in the decode head pools each image to one value per channel before a norm
    layer (ASPP's image pool, a pyramid pooling scale of 1), or None."""
    from mmengine.registry import MODELS
    from mmseg.models.decode_heads import ASPPHead, PSPHead, UPerHead
    kind = head.get('type')
    with MODELS.switch_scope_and_registry(scope) as registry:
        cls = registry.get(kind) if isinstance(kind, str) else kind
    if not inspect.isclass(cls):
        return None
    if issubclass(cls, ASPPHead):
        return 'its ASPP image-pool branch'
    if issubclass(cls, (PSPHead, UPerHead)):
        scales = head.get('pool_scales')
        if scales is None:
            scales = inspect.signature(cls.__init__).parameters['pool_scales'].default
        if 1 in tuple(scales or ()):
            return 'its pyramid pooling at scale 1'
    return None


def _normalised_image_branches(cfg: Config) -> Iterator[Tuple[str, str, str, str]]:
    """``(where, head type, branch, norm type)`` of the heads with such a branch."""
    for where, head in segmentor_heads(cfg.get('model') or {}):
        norm = (head.get('norm_cfg') or {}).get('type')
        if norm not in _BATCH_NORMS:
            continue
        branch = _image_level_branch(head, cfg.get('default_scope'))
        if branch is not None:
            yield where, head.get('type'), branch, norm


def check_batch_norm_batch(cfg: Config, world_size: int = 1):
    """Raises ValueError if a head's batch norm would see one value per channel.

    A branch that pools every image to 1x1 and then normalises with BatchNorm needs more
    than one image per normalisation group: ``train_dataloader.batch_size`` images per
    process, times the number of processes where the norm is SyncBN. With one, PyTorch
    stops the first iteration with "Expected more than 1 value per channel when training".
    Call it after the norm types are final (without CUDA SyncBN has become BN).
    """
    loader = cfg.get('train_dataloader') or {}
    batch = loader.get('batch_size', 1)
    for where, kind, branch, norm in _normalised_image_branches(cfg):
        synced = 'Sync' in norm
        if batch * (world_size if synced else 1) > 1:
            continue
        raise ValueError(
            f'train_dataloader.batch_size={batch} per process, {world_size} process'
            f'{"es" if world_size > 1 else ""}: {where} ({kind}) normalises {branch} with '
            f'{norm} over a single value per channel, and BatchNorm needs more than one '
            '(training would stop at the first iteration with "Expected more than 1 value '
            'per channel when training"). Use --cfg-options train_dataloader.batch_size=2 '
            '(or more images per GPU), or train on 2 or more GPUs with SyncBN (norm_cfg type '
            'SyncBN; tools/dist_train.sh CONFIG GPUS), which normalises over all of them')

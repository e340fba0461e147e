"""Batch norm over one value per channel and persistent workers without workers: found on the
config, before training starts."""
import copy
import os.path as osp
from functools import lru_cache

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope

from hieraseg.utils.loader_checks import check_batch_norm_batch, turn_off_persistent_workers

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEEPLAB = osp.join(REPO,
                   'configs/hssn/hssn-deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py')
UPERNET = osp.join(REPO, 'configs/hssn/hssn-upernet_r101_4xb2-80k_cityscapes-512x1024.py')
TOY = osp.join(REPO, 'configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py')


@lru_cache(maxsize=None)
def _load(path):
    return Config.fromfile(path)


def load(path):
    """A config of its own (each file is read once)."""
    return copy.deepcopy(_load(path))


def config(path, batch_size, norm=None):
    cfg = load(path)
    cfg.train_dataloader.batch_size = batch_size
    if norm is not None:
        cfg.model.decode_head.norm_cfg.type = norm
    return cfg


def test_the_aspp_image_pool_needs_two_images_per_batch_norm(mmseg_scope):
    """The trap itself: DeepLabV3+'s image pool with BN stops a batch of one."""
    cfg = load(DEEPLAB)
    head = dict(cfg.model.decode_head, in_channels=32, channels=8, c1_in_channels=8,
                c1_channels=4, embedding_channels=4, norm_cfg=dict(type='BN'), loss_triplet=None)
    with DefaultScope.overwrite_default_scope('mmseg'):
        head = MODELS.build(head).train()
    features = [torch.randn(1, 8, 16, 16), None, None, torch.randn(1, 32, 8, 8)]
    with pytest.raises(ValueError, match='Expected more than 1 value per channel'):
        head(features)
    head([torch.cat([f, f]) if f is not None else None for f in features])  # two: fine


@pytest.mark.parametrize('path, batch, norm, world, branch', [
    (DEEPLAB, 1, 'BN', 1, 'its ASPP image-pool branch'),
    (DEEPLAB, 1, 'SyncBN', 1, 'its ASPP image-pool branch'),
    (DEEPLAB, 1, 'BN', 4, 'its ASPP image-pool branch'),  # BN: each process on its own
    (UPERNET, 1, 'BN', 1, 'its pyramid pooling at scale 1'),
])
def test_a_batch_norm_over_one_value_is_refused(path, batch, norm, world, branch):
    with pytest.raises(ValueError) as error:
        check_batch_norm_batch(config(path, batch, norm), world)
    message = str(error.value)
    assert message.startswith(f'train_dataloader.batch_size=1 per process, {world} process')
    assert f'normalises {branch} with {norm} over a single value per channel' in message
    assert '--cfg-options train_dataloader.batch_size=2' in message


@pytest.mark.parametrize('path, batch, norm, world', [
    (DEEPLAB, 2, 'BN', 1),
    (DEEPLAB, 1, 'SyncBN', 2),  # SyncBN normalises over both processes' images
    (DEEPLAB, 1, 'GN', 1),
    (TOY, 1, None, 1),  # FCN: no image-level branch
])
def test_batch_norm_over_more_values_passes(path, batch, norm, world):
    cfg = config(path, batch, norm)
    if norm == 'GN':
        cfg.model.decode_head.norm_cfg = dict(type='GN', num_groups=8)
    check_batch_norm_batch(cfg, world)


def test_persistent_workers_are_turned_off_without_workers():
    cfg = load(DEEPLAB)  # mmseg's Cityscapes loaders: persistent_workers=True
    cfg.train_dataloader.num_workers = 0
    lines = turn_off_persistent_workers(cfg)
    assert cfg.train_dataloader.persistent_workers is False
    assert cfg.val_dataloader.persistent_workers is True  # it has workers
    assert lines == ['train_dataloader: num_workers=0, so persistent_workers is turned off '
                     '(it keeps worker processes alive and there are none)']

"""Hierarchical DNC through mmengine's Runner (as tools/train.py runs it): every node's
sub-centroids are placed and clustered, and resume restores centroids and memory exactly."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from hieraseg.datasets.toy_shapes import generate_toy_shapes
from hieraseg.engine.hooks import SinkhornClusteringHook
from hieraseg.engine.hooks.sinkhorn_clustering_hook import CHECKPOINT_KEY
from hieraseg.utils import adapt_cfg_to_device
from hieraseg.utils.checkpoint import use_safe_checkpoint_loading

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIG = osp.join(REPO, 'configs/hssn/hiera-dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py')
NAME = 'decode_head.classifier'


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('hiera_dnc_toy') / 'toy_shapes')
    generate_toy_shapes(root, num_train=32, num_val=8, size=64, seed=0)
    return root


def make_cfg(toy_root, work_dir, iters, checkpoint_interval=10**6):
    cfg = Config.fromfile(CONFIG)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = toy_root
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=10**6)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False,
                                        interval=checkpoint_interval)
    cfg.work_dir = str(work_dir)
    cfg.randomness = dict(seed=0)
    adapt_cfg_to_device(cfg)
    return cfg


def dnc_hook(runner):
    return next(h for h in runner.hooks if isinstance(h, SinkhornClusteringHook))


def test_trains_clusters_every_node_and_resumes_exactly(toy_root, tmp_path):
    runner = Runner.from_cfg(make_cfg(toy_root, tmp_path, iters=6, checkpoint_interval=6))
    clf = runner.model.decode_head.classifier
    start = clf.centroids.clone()
    runner.train()
    memory = dnc_hook(runner).memories[NAME]
    assert memory.features.shape[0] == 6  # one FIFO per leaf, none per coarse node
    assert clf.initialized.all()  # all 9 nodes placed from their (descendants') features
    moved = (clf.centroids != start).any(dim=2)
    assert moved.all()
    assert torch.allclose(clf.centroids.norm(dim=-1), torch.ones(9, 4), atol=1e-5)

    checkpoint_path = osp.join(str(tmp_path), 'iter_6.pth')
    saved = torch.load(checkpoint_path, map_location='cpu', weights_only=False)
    assert set(saved[CHECKPOINT_KEY]) == {NAME}
    cfg = make_cfg(toy_root, tmp_path / 'resumed', iters=8)
    cfg.resume, cfg.load_from = True, checkpoint_path
    use_safe_checkpoint_loading()  # as tools/train.py reads checkpoints (prepare_runtime)
    resumed = Runner.from_cfg(cfg)
    resumed.call_hook('before_run')
    resumed.load_or_resume()
    resumed.call_hook('before_train')
    assert resumed.iter == 6
    clf2 = resumed.model.decode_head.classifier
    assert torch.equal(clf2.centroids, clf.centroids)
    assert torch.equal(clf2.initialized, clf.initialized)
    restored = dnc_hook(resumed).memories[NAME].state_dict()
    for key, value in memory.state_dict().items():
        assert torch.equal(restored[key], value), key

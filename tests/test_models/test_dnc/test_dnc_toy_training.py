"""Every DNC segmentation head trains on the generated toy data with the clustering hook
(through mmengine's Runner, as tools/train.py runs it), beats its untrained self, and
resumes with its centroids and memory restored exactly."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from hieraseg.datasets.toy_shapes import generate_toy_shapes
from hieraseg.engine.hooks import SinkhornClusteringHook
from hieraseg.engine.hooks.sinkhorn_clustering_hook import CHECKPOINT_KEY
from hieraseg.utils import prepare_runtime

pytestmark = pytest.mark.slow  # end-to-end: left out by -m 'not slow'

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIG = osp.join(REPO, 'configs/dnc/dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py')
NUM_CLASSES = 6
ITERS = 40

# The toy backbone (ResNetV1c-18 at width 16) gives 16/32/64/128 channels at stride 8.
COMMON = dict(num_classes=NUM_CLASSES, norm_cfg=dict(type='SyncBN', requires_grad=True),
              num_sub_centroids=4, embed_channels=32, align_corners=False)
HEADS = {
    'DNCFCNHead': dict(type='DNCFCNHead', in_channels=128, in_index=3, channels=32,
                       num_convs=1, concat_input=True, **COMMON),
    'DNCASPPHead': dict(type='DNCASPPHead', in_channels=128, in_index=3, channels=32,
                        dilations=(1, 2, 4), **COMMON),
    'DNCSepASPPHead': dict(type='DNCSepASPPHead', in_channels=128, in_index=3, channels=32,
                           dilations=(1, 2, 4), c1_in_channels=16, c1_channels=8,
                           loss_contrast_weight=0.01, loss_compact_weight=0.001, **COMMON),
    'DNCUPerHead': dict(type='DNCUPerHead', in_channels=[16, 32, 64, 128],
                        in_index=[0, 1, 2, 3], channels=32, pool_scales=(1, 2, 4), **COMMON),
}


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('dnc_toy') / 'toy_shapes')
    generate_toy_shapes(root, num_train=64, num_val=16, size=64, seed=0)
    return root


def make_cfg(toy_root, work_dir, head=None, iters=ITERS, checkpoint_interval=10**6):
    cfg = Config.fromfile(CONFIG)
    if head is not None:
        cfg.model.decode_head = copy.deepcopy(head)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = toy_root
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=10**6)
    cfg.param_scheduler = []  # constant lr: a short run learns more than with a decay
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False,
                                        interval=checkpoint_interval)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=20, log_metric_by_epoch=False)
    cfg.custom_hooks[0].momentum = 0.9  # a short run
    cfg.work_dir = str(work_dir)
    cfg.randomness = dict(seed=0)
    prepare_runtime(cfg, 'none')  # as tools/train.py: BN without CUDA, safe checkpoint loading
    return cfg


def mean_iou(model, dataloader):
    """mIoU in [0, 1] over the classes present in the ground truth of ``dataloader``."""
    model.eval()
    hist = torch.zeros(NUM_CLASSES, NUM_CLASSES, dtype=torch.long)
    with torch.no_grad():
        for data in dataloader:
            for out in model.test_step(data):
                pred = out.pred_sem_seg.data.flatten()
                gt = out.gt_sem_seg.data.flatten()
                valid = gt != 255
                hist += torch.bincount(gt[valid] * NUM_CLASSES + pred[valid],
                                       minlength=NUM_CLASSES**2).view(NUM_CLASSES, -1)
    model.train()
    inter = hist.diag().float()
    union = hist.sum(0) + hist.sum(1) - hist.diag()
    present = hist.sum(1) > 0
    return float((inter[present] / union[present].float()).mean())


def dnc_hook(runner):
    return next(h for h in runner.hooks if isinstance(h, SinkhornClusteringHook))


@pytest.mark.parametrize('name', list(HEADS))
def test_head_trains_with_hook_and_beats_untrained_self(name, toy_root, tmp_path):
    runner = Runner.from_cfg(make_cfg(toy_root, tmp_path, HEADS[name]))
    model = runner.model
    assert type(model.decode_head).__name__ == name
    model.init_weights()
    val_loader = Runner.build_dataloader(runner.cfg.val_dataloader)
    before = mean_iou(model, val_loader)
    centroids0 = model.decode_head.classifier.centroids.clone()

    runner.train()

    after = mean_iou(model, val_loader)
    print(f"{name}: mIoU untrained {before:.3f} -> trained {after:.3f}")
    assert after > before + 0.1 and after > 2 * before, (before, after)
    centroids = model.decode_head.classifier.centroids
    assert not torch.allclose(centroids, centroids0)
    assert torch.allclose(centroids.norm(dim=-1), torch.ones(NUM_CLASSES, 4), atol=1e-5)
    memory = dnc_hook(runner).memories['decode_head.classifier']
    assert (memory.count > 0).all()  # every toy class reached the memory
    assert runner.message_hub.get_scalar('train/dnc_empty_classes').current() == 0


def test_resume_restores_centroids_and_memory_exactly(toy_root, tmp_path):
    runner = Runner.from_cfg(make_cfg(toy_root, tmp_path, iters=6, checkpoint_interval=6))
    runner.train()
    checkpoint_path = osp.join(str(tmp_path), 'iter_6.pth')
    saved = torch.load(checkpoint_path, map_location='cpu', weights_only=False)
    assert set(saved[CHECKPOINT_KEY]) == {'decode_head.classifier'}
    centroids = runner.model.decode_head.classifier.centroids.clone()
    memory = dnc_hook(runner).memories['decode_head.classifier'].state_dict()

    cfg = make_cfg(toy_root, tmp_path / 'resumed', iters=8)
    cfg.resume, cfg.load_from = True, checkpoint_path
    resumed = Runner.from_cfg(cfg)
    # What runner.train() does before its first iteration, without iterating.
    resumed.call_hook('before_run')
    resumed.load_or_resume()
    resumed.call_hook('before_train')
    assert resumed.iter == 6
    assert torch.equal(resumed.model.decode_head.classifier.centroids, centroids)
    restored = dnc_hook(resumed).memories['decode_head.classifier'].state_dict()
    for key, value in memory.items():
        assert torch.equal(restored[key], value), key

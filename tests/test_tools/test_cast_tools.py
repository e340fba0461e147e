"""CAST on the toy objects: a short training run through mmengine's Runner learns,
tools/cast_segments.py draws a non-blank PNG, experiments/cast_toy_eval.py reports every level."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope
from mmengine.runner import Runner
from PIL import Image

from hieraseg.datasets import generate_toy_objects
from tests.scripts import load_script

pytestmark = pytest.mark.slow  # end-to-end: left out by -m 'not slow'

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CAST_CONFIG = osp.join(REPO, 'configs/cast/cast-tiny_1xb32-30e_toy-objects-64x64.py')
VIT_CONFIG = osp.join(REPO, 'configs/cast/vit-tiny-p8_1xb32-30e_toy-objects-64x64.py')


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('data') / 'toy_objects')
    generate_toy_objects(root, num_train=320, num_val=60, size=48, seed=0)
    return root


def short_config(path, root, work_dir, epochs=8):
    """``path`` on the 48x48 toy set at ``root`` (49 superpixels asked: the config's density),
    ``epochs`` epochs of batches of 32."""
    cfg = Config.fromfile(path)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = root
        for step in cfg[loader].dataset.pipeline:
            if step['type'] == 'Superpixels':
                step['num_segments'] = 49
    cfg.train_dataloader.batch_size = 32
    cfg.train_cfg = dict(by_epoch=True, max_epochs=epochs, val_interval=epochs)
    cfg.optim_wrapper.optimizer.lr = 2e-3
    cfg.param_scheduler = [dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=epochs)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=8)
    cfg.work_dir = str(work_dir)
    return cfg


@pytest.fixture(scope='module')
def trained(toy_root, tmp_path_factory):
    """Eight epochs (80 iterations of 32 images) of the toy CAST config, seed 0."""
    work_dir = tmp_path_factory.mktemp('cast_toy')
    runner = Runner.from_cfg(short_config(CAST_CONFIG, toy_root, work_dir))
    runner.train()
    metrics = runner.val_loop.run()
    return str(work_dir / 'epoch_8.pth'), metrics


def test_toy_training_learns(trained):
    _, metrics = trained
    assert metrics['accuracy/top1'] > 2 * 25.0  # 4 balanced classes: chance is 25 %


def test_cast_segments_tool_writes_a_non_blank_png(toy_root, tmp_path, capsys):
    """A random-init model (saved as a checkpoint here) still segments: the tool runs the
    test pipeline, draws image + 5 levels and prints the counts."""
    cfg = Config.fromfile(CAST_CONFIG)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    checkpoint = str(tmp_path / 'random.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), checkpoint)
    out = str(tmp_path / 'segments.png')
    image = osp.join(toy_root, 'images', 'val', 'val_000001.png')
    tool = load_script('tools/cast_segments.py')
    assert tool.main([CAST_CONFIG, checkpoint, image, '--out', out]) == 0
    printed = capsys.readouterr().out
    assert 'level 0 (superpixels):' in printed and 'level 4 (2 clusters): 2 segments' in printed
    png = np.asarray(Image.open(out).convert('RGB'))
    levels = len(model.backbone.num_clusters) + 1
    assert png.shape[1] > (levels + 1) * 48 and png.std() > 20
    # every panel has content: several colours, not one flat fill
    width = (png.shape[1] + 4) // (levels + 2)
    for index in range(levels + 1):
        panel = png[20:, index * width:(index + 1) * width - 4]
        assert len(np.unique(panel.reshape(-1, 3), axis=0)) >= 3


def test_cast_toy_eval_tool_reports_every_level(trained, toy_root, tmp_path, capsys):
    checkpoint, _ = trained
    cfg = Config.fromfile(VIT_CONFIG)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        vit = MODELS.build(cfg.model)
    vit_checkpoint = str(tmp_path / 'vit.pth')
    torch.save(dict(state_dict=vit.state_dict(), meta=dict()), vit_checkpoint)
    out = str(tmp_path / 'eval.json')
    tool = load_script('experiments/cast_toy_eval.py')
    assert tool.main([CAST_CONFIG, checkpoint, VIT_CONFIG, vit_checkpoint,
                      '--data-root', toy_root, '--json', out]) == 0
    printed = capsys.readouterr().out
    assert '| superpixels |' in printed and '| 4 (2) | 2.0 |' in printed
    import json
    with open(out) as f:
        result = json.load(f)
    assert [level['clusters'] for level in result['cast']['levels']] == [None, 16, 8, 4, 2]
    assert [level['clusters'] for level in result['vit_kmeans']['levels']] == [16, 8, 4, 2]
    for level in result['cast']['levels'] + result['vit_kmeans']['levels']:
        assert 0 < level['miou'] <= 100
    # coarser levels hold bigger segments: the superpixels alone match objects worst
    assert result['cast']['levels'][0]['miou'] < result['cast']['levels'][-1]['miou']

"""--max-iters scales a config's schedule; a schedule that ends before or after the training
is an error at start (tools/train.py)."""
import os.path as osp

import pytest
from mmengine.config import Config

from hieraseg.utils.schedule import check_schedule_fits, scale_schedule

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
HIERA_DNC = osp.join(REPO, 'configs/hssn/hiera-dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py')
HSSN_CITYSCAPES = osp.join(
    REPO, 'configs/hssn/hssn-deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py')
CAST_TOY = osp.join(REPO, 'configs/cast/cast-tiny_1xb32-30e_toy-objects-64x64.py')


def test_warm_up_decay_intervals_and_hooks_scale_with_the_run():
    cfg = Config.fromfile(HIERA_DNC)  # warm-up 0-200, poly 200-2000, val / ckpt every 1000
    cfg.custom_hooks = [dict(type='SinkhornClusteringHook', begin=100)]
    lines = scale_schedule(cfg, 400)
    warmup, poly = cfg.param_scheduler
    assert (warmup.begin, warmup.end, poly.begin, poly.end) == (0, 40, 40, 400)
    assert cfg.train_cfg.max_iters == 400 and cfg.train_cfg.val_interval == 200
    assert cfg.default_hooks.checkpoint.interval == 200
    assert cfg.custom_hooks[0].begin == 20
    assert lines == [
        '--max-iters 400: train_cfg.max_iters 2000 -> 400',
        '--max-iters 400: param_scheduler.0.end 200 -> 40',
        '--max-iters 400: param_scheduler.1.begin 200 -> 40',
        '--max-iters 400: param_scheduler.1.end 2000 -> 400',
        '--max-iters 400: train_cfg.val_interval 1000 -> 200',
        '--max-iters 400: default_hooks.checkpoint.interval 1000 -> 200',
        '--max-iters 400: custom_hooks.0.begin 100 -> 20',
        '--max-iters 400: model.decode_head.loss_triplet (TreeTripletLoss) ramps its weight '
        'over train_cfg.max_iters, now 2000 -> 400 iterations',
    ]
    check_schedule_fits(cfg)


def test_a_short_run_keeps_every_scheduler_and_a_long_one_stretches_it():
    cfg = Config.fromfile(HIERA_DNC)
    scale_schedule(cfg, 4)  # the warm-up keeps at least one iteration
    warmup, poly = cfg.param_scheduler
    assert (warmup.begin, warmup.end, poly.begin, poly.end) == (0, 1, 1, 4)
    cfg = Config.fromfile(HSSN_CITYSCAPES)
    scale_schedule(cfg, 160000)
    assert cfg.param_scheduler[0].end == 160000 and cfg.train_cfg.val_interval == 16000
    with pytest.raises(ValueError, match=r'--max-iters 1: param_scheduler.1 \(PolyLR\) covers '
                       r'iterations 200-2000 of 2000, which would leave it none'):
        scale_schedule(Config.fromfile(HIERA_DNC), 1)


def test_settings_given_on_the_command_line_are_not_reported_as_scaled():
    cfg = Config.fromfile(HIERA_DNC)
    lines = scale_schedule(cfg, 400, keep={'train_cfg.val_interval': 400})
    assert not any('val_interval' in line for line in lines)


def test_epoch_based_configs_refuse_max_iters_and_keep_their_schedule_check():
    cfg = Config.fromfile(CAST_TOY)
    with pytest.raises(ValueError, match=r'--max-iters: this config trains by epochs '
                       r'\(train_cfg.max_epochs=30\).*--cfg-options train_cfg.max_epochs=N'):
        scale_schedule(cfg, 10)
    check_schedule_fits(cfg)  # the cosine decay has no end: it follows max_epochs
    cfg.param_scheduler[1].end = 40
    with pytest.raises(ValueError, match=r'param_scheduler.1 \(CosineAnnealingLR\) ends at '
                       r'epoch 40 but train_cfg.max_epochs is 30'):
        check_schedule_fits(cfg)


@pytest.mark.parametrize('max_iters, when', [(400, 'after'), (4000, 'before')])
def test_a_schedule_that_does_not_end_with_the_training_is_an_error(max_iters, when):
    cfg = Config.fromfile(HIERA_DNC)
    cfg.train_cfg.max_iters = max_iters  # what a user edits in a copy of a config
    with pytest.raises(ValueError) as error:
        check_schedule_fits(cfg)
    message = str(error.value)
    assert message.startswith(f'the learning-rate schedule ends {when} the training: '
                              'param_scheduler.1 (PolyLR) ends at iteration 2000 but '
                              f'train_cfg.max_iters is {max_iters}')
    assert '--max-iters N' in message and f'param_scheduler.1.end={max_iters}' in message
    assert 'allow_schedule_mismatch = True' in message
    cfg.allow_schedule_mismatch = True  # deliberate
    check_schedule_fits(cfg)

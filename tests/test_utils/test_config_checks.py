"""Config checks that run before the Runner exists (tools/train.py, tools/test.py)."""
import os.path as osp

import pytest
from mmengine.config import Config

from hieraseg.utils.config_checks import check_cfg_option_keys, check_hook_and_loop_args

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY = osp.join(REPO, 'configs/dnc/dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py')


@pytest.fixture(scope='module')
def toy_cfg():
    return Config.fromfile(TOY)


def with_options(cfg, **options):
    cfg = cfg.copy()
    cfg.merge_from_dict(options)
    return cfg


def test_unknown_top_level_keys_name_the_closest(toy_cfg):
    with pytest.raises(ValueError, match=r"train_cfgg.max_iters: the config has no key "
                       r"'train_cfgg' \(closest: train_cfg"):
        check_cfg_option_keys(toy_cfg, {'train_cfgg.max_iters': 10})
    # keys of the config and Runner settings the config leaves out are fine
    check_cfg_option_keys(toy_cfg, {'train_cfg.max_iters': 10, 'resume': True,
                                    'randomness.seed': 3, 'load_from': 'x.pth'})


@pytest.mark.parametrize('option, message', [
    ({'default_hooks.checkpoint.intervall': 5},
     r"default_hooks.checkpoint.intervall: Runner.save_checkpoint has no argument "
     r"'intervall'"),
    ({'default_hooks.logger.intervall': 5},
     r"default_hooks.logger.intervall: LoggerHook has no argument 'intervall' \(closest: "
     r"interval"),
    ({'train_cfg.max_iterss': 5},
     r"train_cfg.max_iterss: IterBasedTrainLoop has no argument 'max_iterss' \(closest: "
     r"max_iters"),
    ({'val_cfg.fp17': True}, r"val_cfg.fp17: ValLoop has no argument 'fp17' \(closest: fp16"),
])
def test_hook_and_loop_arguments_are_checked(toy_cfg, option, message):
    check_hook_and_loop_args(toy_cfg)  # the config as it is passes
    with pytest.raises(TypeError, match=message):
        check_hook_and_loop_args(with_options(toy_cfg, **option))


def test_custom_hooks_are_checked(toy_cfg):
    cfg = toy_cfg.copy()
    cfg.custom_hooks = [dict(type='SinkhornClusteringHook', momentun=0.9)]
    with pytest.raises(TypeError, match=r"custom_hooks\[0\].momentun: SinkhornClusteringHook "
                       r"has no argument 'momentun' \(closest: momentum"):
        check_hook_and_loop_args(cfg)

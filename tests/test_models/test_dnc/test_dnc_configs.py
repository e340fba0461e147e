"""configs/dnc: every config loads with the plugin import; every DNC config pairs a DNC head
and the clustering hook with a parametric baseline beside it that differs only there."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs/dnc/*.py')))
DNC_CONFIGS = [c for c in CONFIGS if osp.basename(c).startswith('dnc')]
DNC_HEADS = {'DNCClsHead', 'DNCFCNHead', 'DNCASPPHead', 'DNCSepASPPHead', 'DNCUPerHead'}
# DNC config -> its baseline, where the name does not say it (a transfer variant).
BASELINE = {
    'dnc-deeplabv3_r50-d8_dnc-in1k-pre_4xb2-80k_cityscapes-512x1024.py':
    'deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.py',
}


def name(path):
    return osp.basename(path)


def head_of(cfg):
    return cfg.model.get('decode_head', cfg.model.get('head'))


def test_the_issue_configs_exist():
    names = {name(c) for c in DNC_CONFIGS}
    for expected in ('dnc_resnet50_8xb32_in1k.py', 'dnc_resnet101_8xb32_in1k.py',
                     'dnc_swin-small_16xb64_in1k.py', 'dnc_swin-base_16xb64_in1k.py',
                     'dnc_resnet50_8xb16_cifar10.py', 'dnc_resnet50_8xb16_cifar100.py',
                     'dnc-fcn_r101-d8_4xb2-80k_cityscapes-512x1024.py',
                     'dnc-deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.py',
                     'dnc-upernet_swin-b-p4-w7-in1k-pre_4xb2-80k_cityscapes-512x1024.py',
                     'dnc-fcn_r101-d8_4xb4-80k_ade20k-512x512.py',
                     'dnc-deeplabv3_r101-d8_4xb4-80k_ade20k-512x512.py',
                     'dnc-upernet_swin-b-p4-w7-in1k-pre_8xb2-160k_ade20k-512x512.py',
                     'dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'):
        assert expected in names


@pytest.mark.parametrize('path', CONFIGS, ids=name)
def test_config_loads_with_plugin_import(path):
    cfg = Config.fromfile(path)
    assert cfg.custom_imports == dict(imports=['hieraseg'], allow_failed_imports=False)


@pytest.mark.parametrize('path', DNC_CONFIGS, ids=name)
def test_dnc_config_has_head_hook_and_baseline(path):
    cfg = Config.fromfile(path)
    head = head_of(cfg)
    assert head.type in DNC_HEADS
    hooks = [h for h in cfg.get('custom_hooks', []) if h.type == 'SinkhornClusteringHook']
    assert len(hooks) == 1
    assert hooks[0].memory_size >= head.get('num_sub_centroids', 4)
    baseline_name = BASELINE.get(name(path), name(path)[len('dnc') + 1:])
    baseline = Config.fromfile(osp.join(osp.dirname(path), baseline_name))
    assert head_of(baseline).type not in DNC_HEADS
    assert not any(h.type == 'SinkhornClusteringHook'
                   for h in baseline.get('custom_hooks', []))
    if name(path) not in BASELINE:  # same model apart from the head
        dnc_model = {k: v for k, v in cfg.model.items() if k not in ('head', 'decode_head')}
        base_model = {k: v for k, v in baseline.model.items()
                      if k not in ('head', 'decode_head')}
        assert dnc_model == base_model
        assert cfg.get('train_cfg') == baseline.get('train_cfg')
        assert cfg.get('optim_wrapper') == baseline.get('optim_wrapper')


def test_toy_dnc_config_builds():
    from mmseg.registry import MODELS
    from hieraseg.utils import adapt_cfg_to_device
    cfg = Config.fromfile(osp.join(REPO, 'configs/dnc/dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'))
    adapt_cfg_to_device(cfg)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    assert type(model.decode_head).__name__ == 'DNCFCNHead'

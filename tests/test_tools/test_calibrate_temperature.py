"""tools/calibrate_temperature.py on the toy data: temperatures change ECE, never a
prediction, and tools/test.py reads them back from the written config."""
import importlib.util
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmseg.registry import MODELS

from hieraseg.evaluation.calibration_runs import (build_split_dataloader,
                                                  build_trained_segmentor)
from hieraseg.evaluation.temperature_scaling import run_calibration_pass
from hieraseg.hierarchy import build_hierarchy
from .conftest import REPO, TOY_CONFIG, call_tool

FLAT_CONFIG = 'configs/hssn/fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'


def load_tool(name='calibrate_temperature'):
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, 'tools', name + '.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def data_options(toy_root):
    return ['--cfg-options'] + [f'{split}_dataloader.dataset.data_root={toy_root}'
                                for split in ('train', 'val', 'test')]


def random_checkpoint(config, path, seed=0):
    """A freshly initialised model of ``config`` saved as a checkpoint; its classifier is
    scaled up so that its confidences are far from its accuracy."""
    cfg = Config.fromfile(osp.join(REPO, config))
    with DefaultScope.overwrite_default_scope('mmseg'):
        torch.manual_seed(seed)
        model = MODELS.build(cfg.model)
    with torch.no_grad():
        model.decode_head.conv_seg.weight.mul_(20)
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return str(path)


def predictions(config, checkpoint, toy_root, **cfg_options):
    cfg = Config.fromfile(config)
    cfg.merge_from_dict({'val_dataloader.dataset.data_root': toy_root, **cfg_options})
    model = build_trained_segmentor(cfg, checkpoint, 'cpu')
    return run_calibration_pass(model, build_split_dataloader(cfg, 'val'),
                                build_hierarchy('toy_shapes'))


@pytest.mark.parametrize('config', [TOY_CONFIG, FLAT_CONFIG])
def test_temperatures_change_ece_not_predictions(config, toy_root, tmp_path, mmseg_scope):
    checkpoint = random_checkpoint(config, tmp_path / 'model.pth')
    out = str(tmp_path / 'calibrated.py')
    result = load_tool().main([config, checkpoint, '--out', out, '--pixels-per-image', '300',
                               '--diagram', str(tmp_path / 'reliability.png')]
                              + data_options(toy_root))
    assert all(t > 0 and t != 1 for t in result['temperatures'])
    # ECE changes at every level (an untrained model's NLL optimum need not lower its ECE;
    # that the fit finds the right temperature is tests/test_evaluation/
    # test_temperature_scaling.py's job)
    for name in ('texture', 'colour'):
        assert result['after'][f'ECE_{name}'] != result['before'][f'ECE_{name}']
    assert osp.getsize(tmp_path / 'reliability.png') > 1000

    written = Config.fromfile(out)
    assert written.model.test_cfg.level_temperatures == [
        round(t, 4) for t in result['temperatures']]
    assert written.model.type == ('FlatHieraEncoderDecoder' if config == FLAT_CONFIG
                                  else 'HieraEncoderDecoder')
    assert result['switched'] == (config == FLAT_CONFIG)
    original = predictions(osp.join(REPO, config), checkpoint, toy_root)
    calibrated = predictions(out, checkpoint, toy_root)
    assert calibrated.prediction_digests == original.prediction_digests  # same argmax
    assert calibrated.level_counts[0][..., 1].sum() != original.level_counts[0][..., 1].sum()
    # the reliability diagram of the written config shows the calibrated model
    metrics = load_tool('reliability_diagram').main(
        [out, checkpoint, '--out', str(tmp_path / 'after.png')] + data_options(toy_root))
    assert metrics == result['after'] and osp.getsize(tmp_path / 'after.png') > 1000


def test_test_tool_reads_the_temperatures_back(toy_root, tmp_path, monkeypatch, capfd):
    checkpoint = random_checkpoint(TOY_CONFIG, tmp_path / 'model.pth', seed=1)
    out = str(tmp_path / 'calibrated.py')
    result = load_tool().main([TOY_CONFIG, checkpoint, '--out', out, '--pixels-per-image',
                               '300'] + data_options(toy_root))
    call_tool(monkeypatch, 'tools/test.py', out, checkpoint, '--work-dir', tmp_path / 'work',
              '--cfg-options', f'test_dataloader.dataset.data_root={toy_root}',
              'test_evaluator.calibration_bins=15')
    output = capfd.readouterr().out
    line = re.search(r'ECE / class-wise ECE per level \(finest first\): texture=([\d.]+) / '
                     r'([\d.]+), colour=([\d.]+) / ([\d.]+)', output)
    assert line, output
    after = result['after']
    assert [float(v) for v in line.groups()] == [
        after['ECE_texture'], after['cwECE_texture'], after['ECE_colour'],
        after['cwECE_colour']]


def test_bad_arguments_are_clear_errors(toy_root, tmp_path):
    tool = load_tool()
    with pytest.raises(SystemExit):
        tool.parse_args([TOY_CONFIG, 'x.pth', '--out', 'calibrated.json'])
    with pytest.raises(FileNotFoundError, match="checkpoint 'missing.pth' does not exist"):
        tool.main([TOY_CONFIG, 'missing.pth', '--out', str(tmp_path / 'c.py')])
    config = tmp_path / 'cascade.py'
    config.write_text(f"_base_ = ['{osp.join(REPO, TOY_CONFIG)}']\n"
                      "model = dict(type='CascadeEncoderDecoder')\n")
    with pytest.raises(ValueError, match="model type 'CascadeEncoderDecoder' has no per-level"):
        tool.main([str(config), random_checkpoint(TOY_CONFIG, tmp_path / 'm.pth'), '--out',
                   str(tmp_path / 'c.py')] + data_options(toy_root))
    assert not osp.exists(tmp_path / 'c.py')

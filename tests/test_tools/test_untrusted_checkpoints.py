"""Every tool that reads a checkpoint refuses one whose pickle would run code, names
--trust-checkpoint, and with it loads the file (the test sees the file's code run).

Refusals happen before any model is built, so they run in this process (runpy); the
accepted loads run the tools for real."""
import os.path as osp
import sys

import pytest
import torch
from PIL import Image

from hieraseg.utils import checkpoint as safe
from hieraseg.utils.checkpoint import TRUST_ENV, UntrustedCheckpointError
from hieraseg.utils.resume import NoResumableCheckpointError
from ..test_utils.test_safe_checkpoints import write_hostile_checkpoint
from .conftest import TOY_CONFIG, call_tool, eval_options, run_tool, short_run_options

DNC_CONFIG = 'configs/dnc/dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'
CAST_CONFIG = 'configs/cast/cast-tiny_1xb32-30e_toy-objects-64x64.py'


@pytest.fixture
def hostile(toy_trained, tmp_path, monkeypatch):
    """(path of a real toy checkpoint with a hostile object in its meta, marker path)."""
    monkeypatch.delenv(TRUST_ENV, raising=False)
    monkeypatch.setattr(safe, '_trusted', False)
    base = torch.load(osp.join(toy_trained[0], 'iter_2.pth'), weights_only=False)
    marker = tmp_path / 'marker'
    return write_hostile_checkpoint(tmp_path / 'iter_2.pth', marker, base), marker


def refused(monkeypatch, hostile, tool, *args, error=UntrustedCheckpointError):
    path, marker = hostile
    with pytest.raises(error) as caught:
        call_tool(monkeypatch, tool, *args)
    assert '--trust-checkpoint' in str(caught.value) and path in str(caught.value)
    assert not marker.exists()


def test_test_tool(hostile, toy_root, tmp_path, monkeypatch):
    path, marker = hostile
    options = eval_options(toy_root)
    refused(monkeypatch, hostile, 'tools/test.py', TOY_CONFIG, path, '--work-dir',
            str(tmp_path / 'refused'), *options)
    code, out = run_tool([sys.executable, 'tools/test.py', TOY_CONFIG, path, '--work-dir',
                          str(tmp_path / 'trusted'), '--trust-checkpoint'] + options)
    assert code == 0, out
    assert 'with pickle enabled (--trust-checkpoint)' in out and 'mIoU_texture' in out
    assert marker.is_dir()


def test_train_tool_load_from_and_resume(hostile, toy_root, tmp_path, monkeypatch):
    path, marker = hostile
    work_dir = osp.dirname(path)  # holds only the hostile iter_2.pth
    options = short_run_options(toy_root, 3, 3)
    refused(monkeypatch, hostile, 'tools/train.py', TOY_CONFIG, '--work-dir',
            str(tmp_path / 'a'), *options, f'load_from={path}')
    refused(monkeypatch, hostile, 'tools/train.py', TOY_CONFIG, '--work-dir',
            str(tmp_path / 'b'), '--resume', path, *options)
    refused(monkeypatch, hostile, 'tools/train.py', TOY_CONFIG, '--work-dir', work_dir,
            '--resume', *options, error=NoResumableCheckpointError)
    code, out = run_tool([sys.executable, 'tools/train.py', TOY_CONFIG, '--work-dir', work_dir,
                          '--resume', '--trust-checkpoint'] + options)
    assert code == 0, out
    assert 'resumed epoch: 0, iter: 2' in out and marker.is_dir()


def test_explanation_tools(hostile, tmp_path, monkeypatch):
    path, marker = hostile
    image = str(tmp_path / 'image.png')
    Image.new('RGB', (32, 32)).save(image)
    refused(monkeypatch, hostile, 'tools/dnc_exemplars.py', DNC_CONFIG, path)
    refused(monkeypatch, hostile, 'tools/dnc_explain.py', DNC_CONFIG, path, image)
    # trusted: the file is read (its pickle runs), then found to hold no sub-centroids
    with pytest.raises(Exception, match='no DNC sub-centroids'):
        call_tool(monkeypatch, 'tools/dnc_exemplars.py', DNC_CONFIG, path, '--trust-checkpoint')
    assert marker.is_dir()


def test_cast_tools(hostile, tmp_path, monkeypatch):
    path, marker = hostile
    refused(monkeypatch, hostile, 'tools/cast_segments.py', CAST_CONFIG, path,
            str(tmp_path / 'image.png'))
    refused(monkeypatch, hostile, 'experiments/cast_toy_eval.py', CAST_CONFIG, path, CAST_CONFIG,
            path)

"""kill -9 during training, then ``--resume``: the run continues from the newest whole
checkpoint and ends bit-identical to the run that was never interrupted.

The kill is injected by a hook of the test config (tests/test_tools/kill_hook.py) at an
exact moment of the checkpoint write, not by timing. The runs use the toy hierarchical DNC
config: dropout on (``dropout_ratio=0.1``), random flips, HSSN's triplet sampler and DNC's
clustering memory, so one run checks what the HSSN and the DNC runs did separately (every
random state and the memory must come back); validation runs at every checkpoint. The
single-process kills share one uninterrupted run.
"""
import os
import os.path as osp
import signal
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config

from .conftest import REPO, TOY_CONFIG, free_port, run_tool, short_run_options

pytestmark = pytest.mark.slow  # end-to-end: left out by -m 'not slow'

CONFIG = 'configs/hssn/hiera-dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'
ENV = dict(PYTHONPATH=os.pathsep.join([REPO, os.environ.get('PYTHONPATH', '')]))
KILLED = -signal.SIGKILL


def kill_config(tmp_path, base: str, at_iter: int, moment: str) -> str:
    """``base`` plus a hook that SIGKILLs the run at ``moment`` of the checkpoint write of
    iteration ``at_iter``."""
    hooks = [dict(hook) for hook in Config.fromfile(osp.join(REPO, base)).get(
        'custom_hooks', [])]
    hooks.append(dict(type='KillDuringCheckpointHook', at_iter=at_iter, moment=moment))
    path = tmp_path / f'kill_{moment}_{at_iter}.py'
    path.write_text(
        f'_base_ = [{osp.join(REPO, base)!r}]\n'
        "custom_imports = dict(imports=['hieraseg', 'tests.test_tools.kill_hook'], "
        'allow_failed_imports=False)\n'
        f'custom_hooks = {hooks!r}\n')
    return str(path)


def options(toy_root, max_iters, *extra):
    """Checkpoints and validation every 2 iterations."""
    return short_run_options(toy_root, max_iters, 2) + ['train_cfg.val_interval=2', *extra]


def train(config, work_dir, opts, resume=False, gpus=1):
    if gpus == 1:
        command = [sys.executable, 'tools/train.py', config, '--work-dir', str(work_dir)]
        env = ENV
    else:
        command = ['bash', 'tools/dist_train.sh', config, str(gpus), '--work-dir',
                   str(work_dir)]
        env = dict(ENV, PORT=str(free_port()))
    return run_tool(command + (['--resume'] if resume else []) + opts, env=env)


def flatten(obj, prefix=''):
    """``{path: tensor or array}`` for every tensor and NumPy array inside ``obj``."""
    if isinstance(obj, (torch.Tensor, np.ndarray)):
        return {prefix: obj}
    items = obj.items() if isinstance(obj, dict) else \
        enumerate(obj) if isinstance(obj, (list, tuple)) else ()
    found = {}
    for key, value in items:
        found.update(flatten(value, f'{prefix}/{key}'))
    return found


def assert_bit_identical(path_a, path_b):
    """Every tensor of the weights, buffers (BN statistics, DNC centroids), optimizer state,
    DNC memory and saved random states is equal (``torch.equal``)."""
    a, b = (torch.load(p, map_location='cpu', weights_only=False) for p in (path_a, path_b))
    assert a['meta']['iter'] == b['meta']['iter']
    parts = ('state_dict', 'optimizer', 'dnc_memory')
    flat_a = flatten({k: a.get(k) for k in parts} | {'rng': a['meta']['resume_state']})
    flat_b = flatten({k: b.get(k) for k in parts} | {'rng': b['meta']['resume_state']})
    assert flat_a.keys() == flat_b.keys()
    differ = [key for key in flat_a
              if not torch.equal(torch.as_tensor(flat_a[key]), torch.as_tensor(flat_b[key]))]
    assert not differ, f'{len(differ)} of {len(flat_a)} tensors differ: {differ[:8]}'
    return len(flat_a)


@pytest.fixture(scope='module')
def straight(toy_root, tmp_path_factory):
    """The uninterrupted single-process run the killed ones must end equal to."""
    work_dir = tmp_path_factory.mktemp('straight')
    code, out = train(CONFIG, work_dir, options(toy_root, 4))
    assert code == 0, out
    return work_dir


def test_killed_before_the_rename_resumes_from_the_previous_checkpoint(
        toy_root, tmp_path, straight):
    killed = tmp_path / 'killed'
    # max_keep_ckpts=1: mmengine deletes iter_2.pth before writing iter_4.pth
    keep_one = options(toy_root, 4, 'default_hooks.checkpoint.max_keep_ckpts=1')
    code, out = train(kill_config(tmp_path, CONFIG, 4, 'before_rename'), killed, keep_one)
    assert code == KILLED, out
    assert sorted(p for p in os.listdir(killed) if p.endswith('.pth')) == ['iter_2.pth']
    assert [p for p in os.listdir(killed) if p.endswith('.partial')]
    with open(killed / 'last_checkpoint') as f:
        assert f.read().endswith('iter_2.pth')

    code, out = train(CONFIG, killed, keep_one, resume=True)
    assert code == 0, out
    assert f'--resume: resuming from {killed}/iter_2.pth' in out
    assert 'left by a killed checkpoint write' in out
    assert 'resumed epoch: 0, iter: 2' in out and 'Iter(train) [3/4]' in out
    assert not [p for p in os.listdir(killed) if p.endswith('.partial')]
    assert sorted(p for p in os.listdir(killed) if p.endswith('.pth')) == ['iter_4.pth']
    assert assert_bit_identical(straight / 'iter_4.pth', killed / 'iter_4.pth') > 100


def test_killed_before_last_checkpoint_is_written(toy_root, tmp_path, straight):
    """The issue's case: iter_2.pth renamed into place, ``last_checkpoint`` not written
    (mmengine's auto-resume then started from iteration 0)."""
    killed = tmp_path / 'killed'
    code, out = train(kill_config(tmp_path, CONFIG, 2, 'after_rename'), killed,
                      options(toy_root, 4))
    assert code == KILLED, out
    assert osp.isfile(killed / 'iter_2.pth') and not osp.exists(killed / 'last_checkpoint')

    code, out = train(CONFIG, killed, options(toy_root, 4), resume=True)
    assert code == 0, out
    assert f'--resume: resuming from {killed}/iter_2.pth' in out
    assert 'resumed epoch: 0, iter: 2' in out and 'Iter(train) [1/4]' not in out
    with open(killed / 'last_checkpoint') as f:
        assert f.read() == str(killed / 'iter_4.pth')
    assert assert_bit_identical(straight / 'iter_4.pth', killed / 'iter_4.pth') > 100


def test_two_gloo_processes_killed_at_a_checkpoint(toy_root, tmp_path):
    straight, killed = tmp_path / 'straight', tmp_path / 'killed'
    code, out = train(CONFIG, straight, options(toy_root, 4), gpus=2)
    assert code == 0, out
    code, out = train(kill_config(tmp_path, CONFIG, 2, 'after_save'), killed,
                      options(toy_root, 4), gpus=2)
    assert code != 0 and not osp.exists(killed / 'iter_4.pth'), out
    code, out = train(CONFIG, killed, options(toy_root, 4), resume=True, gpus=2)
    assert code == 0, out
    assert 'resumed epoch: 0, iter: 2' in out
    assert assert_bit_identical(straight / 'iter_4.pth', killed / 'iter_4.pth') > 100


def test_resume_refuses_when_no_checkpoint_loads(toy_root, tmp_path):
    (tmp_path / 'iter_2.pth').write_bytes(b'PK\x03\x04 truncated')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_2.pth'))
    code, out = train(TOY_CONFIG, tmp_path, options(toy_root, 4), resume=True)
    assert code != 0
    assert f'none of the 1 checkpoints in {tmp_path} loads' in out
    assert f'{tmp_path}/iter_2.pth: ' in out
    assert 'Iter(train)' not in out

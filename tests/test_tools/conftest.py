import os
import os.path as osp
import runpy
import socket
import subprocess
import sys

import pytest

from hieraseg.datasets import generate_toy_shapes

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY_CONFIG = 'configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'


@pytest.fixture(scope='session')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('data') / 'toy_shapes')
    generate_toy_shapes(root, num_train=8, num_val=3, size=32, seed=0)
    return root


@pytest.fixture(scope='session')
def toy_trained(toy_root, tmp_path_factory):
    """(work dir, output) of four toy HSSN iterations with checkpoints at 2 and 4."""
    work_dir = str(tmp_path_factory.mktemp('work'))
    code, out = run_tool([sys.executable, 'tools/train.py', TOY_CONFIG, '--work-dir', work_dir] +
                         short_run_options(toy_root, max_iters=4, checkpoint_interval=2))
    assert code == 0, out
    return work_dir, out


def short_run_options(data_root, max_iters, checkpoint_interval):
    """tools/train.py options that point a toy config at ``data_root`` and shorten its
    schedule (--max-iters scales it; validation at the end)."""
    return [
        '--data-root', data_root,
        '--max-iters', str(max_iters),
        '--cfg-options',
        'train_dataloader.batch_size=2',
        f'train_cfg.val_interval={max_iters}',
        f'default_hooks.checkpoint.interval={checkpoint_interval}',
        'default_hooks.logger.interval=1',
    ]


def eval_options(data_root):
    """tools/test.py options that point a toy config at ``data_root``; ends in
    ``--cfg-options`` so that callers can add settings."""
    return ['--data-root', data_root, '--cfg-options', 'default_hooks.logger.interval=1']


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_tool(args, env=None, timeout=600):
    """Runs a command from the repository root; returns (exit code, stdout + stderr)."""
    full_env = dict(os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable)
    full_env.update(env or {})
    proc = subprocess.run(args, cwd=REPO, env=full_env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return proc.returncode, proc.stdout


def call_tool(monkeypatch, tool, *args):
    """Runs ``tool`` (``'tools/train.py'``) as ``__main__`` in this process with ``args`` as
    its command line, from the repository root; exceptions propagate. For checks that fail
    before anything trains: each saves an interpreter start-up (about 4 s) over
    :func:`run_tool`."""
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(sys, 'argv', [tool] + [str(arg) for arg in args])
    runpy.run_path(osp.join(REPO, tool), run_name='__main__')

"""tools/gpu_check.sh rehearsed on the CPU: --dry-run runs every part at tiny sizes and writes
the report; a part past its time limit is killed, reported as 'timeout', and the others
still run."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

pytestmark = pytest.mark.slow  # end-to-end: left out by -m 'not slow'

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(REPO, 'tools', 'gpu_check.sh')
PARTS = ['cuda_tests', 'hssn_fp32', 'hssn_amp', 'dnc', 'demo', 'hiera_dnc']


def run_check(args, **env):
    environ = dict(os.environ, HIERASEG_PYTHON=sys.executable, OMP_NUM_THREADS='1', **env)
    environ['PYTHONPATH'] = REPO + os.pathsep + environ.get('PYTHONPATH', '')
    return subprocess.run(['bash', SCRIPT] + args, env=environ, capture_output=True,
                          text=True, timeout=400)


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the refusal without CUDA')
def test_without_cuda_it_refuses_to_run_unless_dry_run(tmp_path):
    result = run_check([str(tmp_path / 'out')])
    assert result.returncode == 2
    assert 'torch sees no CUDA device' in result.stderr
    assert not osp.exists(tmp_path / 'out' / 'report.md')


def test_unknown_option_is_an_error(tmp_path):
    result = run_check([str(tmp_path), '--fast'])
    assert result.returncode == 2 and 'unknown option --fast' in result.stderr


def test_dry_run_writes_the_report_and_a_timed_out_part_is_kept_apart(tmp_path):
    out = tmp_path / 'report'
    # hssn_amp gets 1 second: killed by `timeout`, and the parts after it still run
    result = run_check([str(out), '--dry-run'], GPU_CHECK_T_HSSN_AMP='1')
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads((out / 'report.json').read_text())
    assert report['dry_run'] is True and report['all_ok'] is False
    status = {name: part['status'] for name, part in report['parts'].items()}
    assert status == dict(cuda_tests='ok', hssn_fp32='ok', hssn_amp='timeout', dnc='ok',
                          demo='ok', hiera_dnc='ok'), status
    parts = report['parts']
    assert parts['hssn_amp']['limit_s'] == 1 and parts['hssn_amp']['seconds'] < 15
    tests = parts['cuda_tests']['tests']
    assert tests['tests'] > 20 and tests['skipped'] == tests['tests']  # no CUDA here
    assert parts['hssn_fp32']['figures']['iter_s']['hssn'] > 0
    assert parts['dnc']['figures']['clustering_s']['same'] is True
    assert set(parts['demo']['miou']) == {'texture', 'colour'}
    memory = parts['hiera_dnc']['figures']
    assert {(r['case'], r['mode']) for r in memory['results']} == {
        (case, mode) for case in ('hssn', 'hiera_dnc_x2') for mode in ('train', 'whole')}
    assert all(r['peak_bytes'] > 0 and r['seconds'] > 0 for r in memory['results'])
    assert [r['what'] for r in memory['ratios']] == ['hierarchical DNC (shipped x2) / HSSN']
    markdown = (out / 'report.md').read_text()
    assert 'dry run on the CPU' in markdown
    assert '| hssn_amp | timeout |' in markdown and '| demo | ok |' in markdown
    assert 'mIoU per level: texture' in markdown
    assert 'hierarchical DNC (shipped x2) / HSSN: peak x' in markdown

"""The CUDA comparisons of ``tests/test_cuda`` rehearsed on the CPU: the same code, with the
CPU standing in for the device (float32, and fp16 / bf16 autocast, which the CPU has), so that
the checks themselves run on every machine and ``pytest -m cuda`` on a GPU only meets new
numbers, not new code."""
import os.path as osp

import pytest

from tests.device_checks import CHECKS, compare, compare_lean_classification, compare_toy_step

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.mark.parametrize('check', sorted(CHECKS))
@pytest.mark.parametrize('precision', ['fp32', 'fp16', 'bf16'])
def test_device_check_runs_cpu_against_cpu(check, precision):
    compare(check, 'cpu', precision)


@pytest.mark.parametrize('kind', ['hssn', 'dnc'])
@pytest.mark.parametrize('precision', ['fp16', 'bf16'])
def test_toy_step_check_runs_cpu_against_cpu(kind, precision):
    compare_toy_step(kind, 'cpu', precision, repo=REPO)


@pytest.mark.parametrize('precision', ['fp32', 'fp16', 'bf16'])
def test_lean_classification_check_runs_on_the_cpu(precision):
    compare_lean_classification('cpu', precision)


def test_a_real_difference_fails_the_comparison():
    from tests import device_checks
    fn = device_checks.CHECKS['sinkhorn']

    def shifted(device, precision, **kwargs):
        out = fn(device, precision, **kwargs)
        if precision != 'fp32':
            out['q'] = out['q'] * 1.2
        return out

    device_checks.CHECKS['sinkhorn'] = shifted
    try:
        with pytest.raises(AssertionError, match='sinkhorn.q'):
            compare('sinkhorn', 'cpu', 'bf16')
    finally:
        device_checks.CHECKS['sinkhorn'] = fn


def test_hook_check_runs_with_one_gloo_process(tmp_path):
    from tests.device_checks import compare_hook
    got = compare_hook('cpu', 'gloo', str(tmp_path / 'rendezvous'))
    assert int(got['count'].sum()) > 0


@pytest.mark.parametrize('kind', ['hssn', 'dnc'])
def test_train_step_check_runs_on_the_cpu_without_amp(kind):
    from tests.device_checks import toy_train_step_with_wrapper
    log_vars = toy_train_step_with_wrapper(kind, 'cpu', amp=False, repo=REPO)
    assert float(log_vars['loss']) > 0

"""CUDA against the CPU on the same inputs (``pytest -m cuda``; skipped without CUDA).

The comparison code lives in :mod:`tests.device_checks` and is rehearsed on the CPU by
``tests/test_device_checks_cpu.py``; here the device side runs on ``cuda``, in float32 and
under fp16 / bf16 autocast (the CPU reference is always float32)."""
import os.path as osp

import pytest
import torch

from tests.device_checks import (CHECKS, compare, compare_hook, compare_lean_classification,
                                 compare_toy_step, toy_train_step_with_wrapper)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
pytestmark = pytest.mark.cuda


@pytest.mark.parametrize('check', sorted(CHECKS))
@pytest.mark.parametrize('precision', ['fp32', 'fp16', 'bf16'])
def test_cuda_matches_cpu(check, precision):
    compare(check, 'cuda', precision)


@pytest.mark.parametrize('precision', ['fp32', 'fp16', 'bf16'])
def test_lean_classification_on_cuda(precision):
    """The memory-lean classification of upsampled embeddings against the one-piece
    reference on CUDA (under autocast too), and in fp32 against the CPU."""
    compare_lean_classification('cuda', precision)


@pytest.mark.parametrize('kind', ['hssn', 'dnc'])
@pytest.mark.parametrize('precision', ['fp32', 'fp16'])
def test_toy_training_step_cuda_matches_cpu(kind, precision):
    compare_toy_step(kind, 'cuda', precision, repo=REPO)


@pytest.mark.parametrize('kind', ['hssn', 'dnc'])
def test_toy_train_step_with_mmengine_amp(kind):
    """The ``--amp`` path: mmengine's AmpOptimWrapper (fp16 autocast + loss scaling)."""
    toy_train_step_with_wrapper(kind, 'cuda', amp=True, repo=REPO)


def test_sinkhorn_hook_with_one_nccl_process(tmp_path):
    assert torch.distributed.is_nccl_available(), 'this torch has no NCCL'
    compare_hook('cuda', 'nccl', str(tmp_path / 'rendezvous'))

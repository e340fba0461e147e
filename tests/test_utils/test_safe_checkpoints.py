"""Checkpoints are read without running code: the allow-list, the refusal, the opt-in, and
no global change on ``import hieraseg``."""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint

from hieraseg.utils import checkpoint as safe
from hieraseg.utils.checkpoint import (TRUST_ENV, UntrustedCheckpointError, load_checkpoint_file,
                                       use_safe_checkpoint_loading)
from hieraseg.utils.resume import check_loads, checkpoint_seed, find_resumable_checkpoint


class MakesDirectory:
    """Pickles as a call of ``os.makedirs(path, exist_ok=True)``: what a hostile checkpoint
    could do (any call at all), harmless and visible."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.makedirs, (self.path, 0o777, True)


def write_hostile_checkpoint(path, marker, base=None):
    """``base`` (a checkpoint dict) with an object in its meta that makes ``marker``."""
    checkpoint = dict(base or dict(meta=dict(iter=2, seed=0), state_dict={'w': torch.ones(2)},
                                   message_hub={}))
    checkpoint['meta'] = dict(checkpoint['meta'], note=MakesDirectory(str(marker)))
    torch.save(checkpoint, path)
    return str(path)


@pytest.fixture
def untrusted(monkeypatch):
    monkeypatch.delenv(TRUST_ENV, raising=False)
    monkeypatch.setattr(safe, '_trusted', False)


def full_checkpoint():
    """What mmengine's Runner and hieraseg's resumable hook put in a checkpoint."""
    rng = np.random.RandomState(0)
    return dict(
        meta=dict(iter=4, seed=np.int64(3), epoch=0,
                  dataset_meta=dict(classes=('a', 'b'), palette=[[0, 0, 0]]),
                  resume_state=dict(random_states=[dict(numpy=rng.get_state(),
                                                        python=(3, tuple(range(5)), None),
                                                        torch=torch.get_rng_state())])),
        state_dict={'w': torch.arange(4.)},
        message_hub=dict(log_scalars={'loss': HistoryBuffer([1.0, 2.0], [1, 1])},
                         runtime_info={'lr': np.float64(0.1), 'flags': np.array([True])}))


def test_full_checkpoints_load_safely_without_the_allow_list_they_fail(tmp_path, untrusted):
    path = str(tmp_path / 'iter_4.pth')
    torch.save(full_checkpoint(), path)
    with pytest.raises(Exception, match='Weights only load failed'):
        torch.load(path)  # torch's default refuses mmengine's HistoryBuffer / NumPy values
    loaded = load_checkpoint_file(path, map_location='cpu')
    assert loaded['meta']['seed'] == 3
    assert loaded['message_hub']['log_scalars']['loss'].current() == 2.0
    state = loaded['meta']['resume_state']['random_states'][0]['numpy']
    assert np.array_equal(state[1], np.random.RandomState(0).get_state()[1])
    assert torch.equal(load_checkpoint_file(path, mmap=True)['state_dict']['w'],
                       torch.arange(4.))


def test_a_hostile_checkpoint_is_refused_and_runs_nothing(tmp_path, untrusted):
    marker = tmp_path / 'marker'
    path = write_hostile_checkpoint(tmp_path / 'evil.pth', marker)
    with pytest.raises(UntrustedCheckpointError) as error:
        load_checkpoint_file(path)
    assert '--trust-checkpoint' in str(error.value) and 'makedirs' in str(error.value)
    assert path in str(error.value)
    assert not marker.exists()


def test_trust_loads_it_the_old_way_with_a_warning(tmp_path, untrusted, monkeypatch):
    marker = tmp_path / 'marker'
    path = write_hostile_checkpoint(tmp_path / 'evil.pth', marker)
    monkeypatch.setenv(TRUST_ENV, '1')
    assert load_checkpoint_file(path)['state_dict']['w'].tolist() == [1.0, 1.0]
    assert marker.is_dir()  # the opt-in is real: the file's pickle ran


def test_a_damaged_file_is_not_reported_as_untrusted(tmp_path, untrusted):
    path = tmp_path / 'iter_2.pth'
    torch.save(full_checkpoint(), str(path))
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(Exception) as error:
        load_checkpoint_file(str(path))
    assert not isinstance(error.value, UntrustedCheckpointError)


def test_resume_search_skips_a_hostile_checkpoint_and_names_the_option(tmp_path, untrusted):
    marker = tmp_path / 'marker'
    good = str(tmp_path / 'iter_2.pth')
    torch.save(full_checkpoint(), good)
    evil = write_hostile_checkpoint(tmp_path / 'iter_4.pth', marker, full_checkpoint())
    assert '--trust-checkpoint' in check_loads(evil)
    chosen, skipped = find_resumable_checkpoint(str(tmp_path))
    assert chosen == good and len(skipped) == 1 and '--trust-checkpoint' in skipped[0]
    with pytest.raises(UntrustedCheckpointError):
        checkpoint_seed(evil)
    assert checkpoint_seed(good) == 3
    assert not marker.exists()


def test_mmengine_reads_local_files_safely_once_installed(tmp_path, untrusted):
    marker = tmp_path / 'marker'
    path = write_hostile_checkpoint(tmp_path / 'evil.pth', marker)
    saved = dict(CheckpointLoader._schemes)
    try:
        use_safe_checkpoint_loading()
        with pytest.raises(UntrustedCheckpointError):
            _load_checkpoint(path, map_location='cpu')
    finally:
        CheckpointLoader._schemes.clear()
        CheckpointLoader._schemes.update(saved)
    assert not marker.exists()


IMPORT_CHECK = '''
import torch
import mmseg.models, mmpretrain.models, mmengine.runner  # what hieraseg builds on (these
# imports let torch register its own distributed types as safe)
from mmengine.fileio.backends.registry_utils import backends, prefix_to_backends
from mmengine.runner.checkpoint import CheckpointLoader
def state():
    return (dict(backends), dict(prefix_to_backends), dict(CheckpointLoader._schemes),
            list(torch.serialization.get_safe_globals()))
before = state()
import hieraseg
import hieraseg.utils.checkpoint, hieraseg.engine, hieraseg.explain
print(state() == before)
'''


def test_import_hieraseg_changes_no_mmengine_backend_or_loader():
    out = subprocess.run([sys.executable, '-c', IMPORT_CHECK], capture_output=True, text=True,
                         cwd=osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == 'True'

import os

import numpy as np
import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint, save_checkpoint

import hieraseg  # noqa: F401  (registers the backend and the loader)
from hieraseg.utils.checkpoint import AtomicLocalBackend


def test_full_mmengine_checkpoint_round_trip(tmp_path):
    path = str(tmp_path / 'iter_1.pth')
    checkpoint = dict(
        meta=dict(iter=1, seed=np.int64(3)),
        state_dict={'w': torch.arange(4.)},
        message_hub=dict(log_scalars={'loss': HistoryBuffer([1.0, 2.0], [1, 1])}))
    save_checkpoint(checkpoint, path)
    with pytest.raises(Exception, match='Weights only load failed'):
        torch.load(path)  # what mmengine's own loader would do on torch >= 2.6
    loaded = _load_checkpoint(path, map_location='cpu')
    assert loaded['meta']['iter'] == 1 and torch.equal(loaded['state_dict']['w'],
                                                       torch.arange(4.))
    assert loaded['message_hub']['log_scalars']['loss'].current() == 2.0
    assert os.listdir(tmp_path) == ['iter_1.pth']


def test_an_interrupted_write_keeps_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / 'latest.pth'
    backend = get_file_backend(str(path))
    assert isinstance(backend, AtomicLocalBackend)
    backend.put(b'old checkpoint', str(path))

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, 'replace', interrupted)
    with pytest.raises(KeyboardInterrupt):
        backend.put(b'new checkpoint that never lands', str(path))
    assert path.read_bytes() == b'old checkpoint'
    assert os.listdir(tmp_path) == ['latest.pth']  # no partial file left behind

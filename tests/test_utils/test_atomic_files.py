import os

import pytest
from mmengine.fileio import get_file_backend
from mmengine.fileio.backends import LocalBackend

from hieraseg.utils.atomic_files import ATOMIC_BACKEND, AtomicLocalBackend, atomic_backend_args


def test_an_interrupted_write_keeps_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / 'latest.pth'
    backend = get_file_backend(str(path), backend_args=atomic_backend_args())
    assert isinstance(backend, AtomicLocalBackend)
    backend.put(b'old checkpoint', str(path))

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, 'replace', interrupted)
    with pytest.raises(KeyboardInterrupt):
        backend.put(b'new checkpoint that never lands', str(path))
    assert path.read_bytes() == b'old checkpoint'
    assert os.listdir(tmp_path) == ['latest.pth']  # no partial file left behind


def test_the_atomic_backend_is_asked_for_not_imposed(tmp_path):
    assert type(get_file_backend(str(tmp_path / 'a.pth'))) is LocalBackend  # mmengine's own
    assert atomic_backend_args(dict(backend='petrel')) == dict(backend='petrel')
    assert atomic_backend_args(dict(backend='local')) == dict(backend=ATOMIC_BACKEND)

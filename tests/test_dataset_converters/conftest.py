import importlib.util
import os.path as osp
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_converter(name: str):
    """tools/dataset_converters/<name>.py as a module (its main(argv) is called directly)."""
    path = osp.join(REPO, 'tools', 'dataset_converters', name + '.py')
    spec = importlib.util.spec_from_file_location(f'converter_{name}', path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # so that --nproc workers can unpickle its functions
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def label_check_cache(tmp_path, monkeypatch):
    """The label scan's cache in the test's folder, not the user's."""
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))


def snapshot(root: str) -> dict:
    """Every file under ``root`` with its bytes: the raw folder must not change."""
    import os
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                files[osp.relpath(path, root)] = f.read()
    return files

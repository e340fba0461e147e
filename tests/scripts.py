"""Loading a script of the repository (tools/, experiments/) as a module, for its tests."""
import importlib.util
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_script(path: str):
    """The module of ``REPO/path`` (e.g. ``'experiments/dnc_digits.py'``)."""
    name = osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

"""The own-data path end to end, for each of the four methods, as docs/own_data.md walks it:
a folder of images and PNG labels with a three-level YAML hierarchy -> tools/new_config.py
(the default schedule) -> tools/train.py --max-iters 2 -> tools/test.py --data-root
--show-dir printing mIoU per level and writing one picture per image.

The tools run in this process (runpy, as `python tools/X.py` runs them) to keep the test
short; the written config is moved to another folder and training starts from a third, so
the config works wherever it is and whatever the current folder; the test reads a copy of
the data set elsewhere (--data-root), with its training images gone."""
import os
import os.path as osp
import runpy
import shutil
import sys

import pytest
from mmengine.visualization import Visualizer

from hieraseg.datasets import generate_toy_shapes_deep

from .conftest import REPO

pytestmark = pytest.mark.slow  # end-to-end: left out by -m 'not slow'


@pytest.fixture(scope='module')
def own_data(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('own') / 'street')
    generate_toy_shapes_deep(root, num_train=4, num_val=2, size=32, seed=0)
    return root


def run_tool(script, *args):
    """``python tools/<script> ARGS`` in this process, which, like a fresh one, starts
    without visualizers: mmengine's ``Visualizer.get_current_instance()`` returns the
    visualizer first registered under the newest name, so one that an earlier test made
    would be drawn with instead of this run's."""
    argv, visualizers = sys.argv, Visualizer._instance_dict.copy()
    sys.argv = [osp.join(REPO, 'tools', script), *args]
    Visualizer._instance_dict.clear()
    try:
        runpy.run_path(sys.argv[0], run_name='__main__')
    finally:
        sys.argv = argv
        Visualizer._instance_dict.clear()
        Visualizer._instance_dict.update(visualizers)


@pytest.mark.parametrize('method', ['flat', 'hssn', 'dnc', 'hiera-dnc'])
def test_own_data_to_per_level_miou(method, own_data, tmp_path, monkeypatch, capfd):
    written = str(tmp_path / 'made' / f'{method}.py')
    run_tool('new_config.py', '--method', method, '--data-root', own_data,
             '--hierarchy', osp.join(own_data, 'hierarchy.yaml'), '--batch-size', '2',
             '--workers', '0', '--out', written)
    assert f'wrote {written}' in capfd.readouterr().out
    config = str(tmp_path / 'moved' / 'my_config.py')
    os.makedirs(osp.dirname(config))
    shutil.move(written, config)
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    work_dir = str(tmp_path / 'work')
    run_tool('train.py', config, '--work-dir', work_dir, '--max-iters', '2')
    train_log = capfd.readouterr().out
    assert 'Iter(train) [2/2]' in train_log
    assert osp.isfile(osp.join(work_dir, 'iter_2.pth'))
    # the data moved: test reads it with --data-root, and never needs the training images
    moved = str(tmp_path / 'moved_data')
    shutil.copytree(own_data, moved, ignore=shutil.ignore_patterns('train'))
    shows = str(tmp_path / 'pictures')
    run_tool('test.py', config, osp.join(work_dir, 'iter_2.pth'), '--work-dir', work_dir,
             '--data-root', moved, '--show-dir', shows)
    test_log = capfd.readouterr().out
    for number, level in enumerate(('texture', 'hue', 'family'), 1):
        assert f'per class results at level {number} ({level}):' in test_log
    assert 'mIoU per level (finest first): texture=' in test_log
    assert ', hue=' in test_log and ', family=' in test_log
    assert sorted(os.listdir(shows)) == ['val_00000.png', 'val_00001.png']

"""Progress bars only on a terminal: a log file (here a pipe) gets none."""
import io
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from hieraseg.datasets.label_scan import scan_label_files

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def labels(tmp_path, monkeypatch):
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))
    paths = []
    for i in range(3):
        path = tmp_path / f'{i}.png'
        Image.fromarray(np.full((4, 4), i, np.uint8)).save(path)
        paths.append(str(path))
    return paths


def test_no_bars_in_a_log_file(labels):
    """The label scan (every tool start) and the converters' task runner, with stdout a
    pipe, as under slurm or ``> log``."""
    script = ('import sys\n'
              'from hieraseg.datasets.label_scan import scan_label_files\n'
              'from hieraseg.utils import converters\n'
              'print(scan_label_files(sys.argv[1:], num_classes=3))\n'
              'print(converters.run(abs, [-1, -2, -3], 2))\n')
    proc = subprocess.run([sys.executable, '-c', script] + labels, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, cwd=REPO,
                          env=dict(os.environ, PYTHONPATH=REPO))
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.splitlines()[-2:] == ['3', '[1, 2, 3]']
    assert '3/3' not in proc.stdout and 'task/s' not in proc.stdout


def test_a_bar_on_a_terminal(labels, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, 'stdout', terminal)
    assert scan_label_files(labels, num_classes=3) == 3
    assert '3/3' in terminal.getvalue()

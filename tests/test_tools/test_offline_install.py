"""tools/make_wheelhouse.sh and tools/install_offline.sh.

The error paths run on a fake wheelhouse (a manifest and empty files) against a fresh
virtual environment that sees only torch, torchvision and their dependencies (linked from
the running interpreter): each must stop before pip installs anything. The install itself
runs once, for real, from a wheelhouse made by make_wheelhouse.sh (PyPI needed, else
skipped; HIERASEG_TEST_WHEELHOUSE=DIR reuses one) with the cached prebuilt mmcv wheel
(~/.cache/hieraseg/wheels; mmcv is never built here: that takes 36 minutes).
"""
import glob
import importlib.metadata as metadata
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # end-to-end: left out by -m 'not slow'

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MAKE = osp.join(REPO, 'tools', 'make_wheelhouse.sh')
INSTALL = osp.join(REPO, 'tools', 'install_offline.sh')
MMCV_WHEELS = osp.expanduser(os.environ.get('HIERASEG_WHEELS', '~/.cache/hieraseg/wheels'))
HERE = '%d.%d' % sys.version_info[:2]
TAG = 'cp%d%d' % sys.version_info[:2]


def clean_env():
    """The environment without pip, hieraseg or PYTHONPATH settings (no checkout on the
    path: what is imported must be what was installed)."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(('PIP_', 'HIERASEG_', 'PYTHON'))}


def run(script, args, python, **env):
    environ = clean_env()
    environ.update(HIERASEG_PYTHON=python, **env)
    return subprocess.run(['bash', script] + args, env=environ, capture_output=True,
                          text=True, timeout=900)


def purelib(python):
    return subprocess.run([python, '-c', 'import sysconfig; print(sysconfig.get_paths()'
                           '["purelib"])'], capture_output=True, text=True,
                          check=True).stdout.strip()


def torch_distributions():
    """torch, torchvision and (recursively) what they need on this platform."""
    names, todo = set(), ['torch', 'torchvision']
    while todo:
        name = re.sub(r'[-_.]+', '-', todo.pop()).lower()
        if name in names:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        names.add(name)
        for requirement in dist.requires or []:
            if 'extra ==' in requirement:
                continue
            todo.append(re.split(r'[\s<>=!~;\[(]', requirement, maxsplit=1)[0])
    names.discard('setuptools')  # a build tool, installed from the wheelhouse
    return [metadata.distribution(name) for name in sorted(names)]


@pytest.fixture(scope='module')
def torch_only_python(tmp_path_factory):
    """A fresh venv (no pip) whose only packages are this interpreter's torch, torchvision
    and their dependencies, linked in through a .pth file: a stand-in for a cluster's torch."""
    root = tmp_path_factory.mktemp('torch_only')
    linked = root / 'site'
    linked.mkdir()
    for dist in torch_distributions():
        tops = {str(f).split('/')[0] for f in dist.files or []}
        for top in tops:
            source = osp.join(str(dist.locate_file('')), top)
            if osp.exists(source) and not osp.exists(linked / top) and top != '..':
                os.symlink(source, linked / top)
    base = getattr(sys, '_base_executable', sys.executable)
    subprocess.run([base, '-m', 'venv', '--without-pip', str(root / 'venv')], check=True)
    python = str(root / 'venv' / 'bin' / 'python')
    site = purelib(python)
    with open(osp.join(site, 'torch_only.pth'), 'w') as f:
        f.write(str(linked) + '\n')
    return python


def fake_wheelhouse(folder, python=HERE, drop=()):
    """A wheelhouse.json and empty files under the names make_wheelhouse.sh gives."""
    os.makedirs(folder, exist_ok=True)
    required = ['ftfy', 'hieraseg', 'mmcv', 'mmengine', 'mmpretrain', 'mmsegmentation',
                'ninja', 'numpy', 'setuptools', 'wheel']
    for name in required:
        if name not in drop:
            suffix = '.tar.gz' if name == 'mmcv' else '-py3-none-any.whl'
            version = '2.1.0' if name == 'mmcv' else '1.0'
            open(osp.join(folder, f'{name}-{version}{suffix}'), 'w').close()
    with open(osp.join(folder, 'wheelhouse.json'), 'w') as f:
        json.dump(dict(python=python, platform='test', required=required,
                       requirements=required), f)
    return str(folder)


def assert_refused(result, *phrases):
    assert result.returncode == 2, result.stdout + result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr
    # nothing was installed: the checks come before the first pip call
    assert '[install_offline] build tools' not in result.stderr


def test_wheelhouse_for_another_python_is_refused(tmp_path, torch_only_python):
    house = fake_wheelhouse(tmp_path / 'house', python='3.7')
    assert_refused(run(INSTALL, [house], torch_only_python),
                   'made for Python 3.7', f'is {HERE}', f'--python {HERE}')


def test_a_missing_package_is_named(tmp_path, torch_only_python):
    house = fake_wheelhouse(tmp_path / 'house', drop=('mmengine', 'ninja'))
    assert_refused(run(INSTALL, [house], torch_only_python), 'lacks mmengine, ninja')


def test_a_target_without_torch_is_refused(tmp_path):
    house = fake_wheelhouse(tmp_path / 'house')
    base = getattr(sys, '_base_executable', sys.executable)
    subprocess.run([base, '-m', 'venv', '--without-pip', str(tmp_path / 'bare')], check=True)
    bare = str(tmp_path / 'bare' / 'bin' / 'python')
    if subprocess.run([bare, '-c', 'import torch'], capture_output=True).returncode == 0:
        pytest.skip('the base interpreter has torch itself')
    assert_refused(run(INSTALL, [house], bare), 'has no torch')


def test_mmcv_cuda_without_nvcc_is_refused(tmp_path, torch_only_python):
    house = fake_wheelhouse(tmp_path / 'house')
    path = '/usr/bin:/bin'
    if any(osp.exists(osp.join(d, 'nvcc')) for d in path.split(':')):
        pytest.skip('nvcc is in /usr/bin or /bin')
    result = run(INSTALL, [house], torch_only_python, HIERASEG_MMCV_CUDA='1', PATH=path)
    if 'is a CPU build' in result.stderr:
        assert_refused(result, 'HIERASEG_MMCV_CUDA=1')  # a CPU torch: refused earlier
    else:
        assert_refused(result, 'HIERASEG_MMCV_CUDA=1 but no nvcc')


def test_bad_arguments_are_clear_errors(tmp_path, torch_only_python):
    assert_refused(run(INSTALL, [str(tmp_path / 'nowhere')], torch_only_python),
                   'no such folder')
    assert_refused(run(INSTALL, [str(tmp_path)], torch_only_python), 'has no wheelhouse.json')
    result = run(MAKE, [str(tmp_path / 'h'), '--python', '3'], sys.executable)
    assert result.returncode == 2 and 'must look like 3.X' in result.stderr
    wrong = tmp_path / 'mmcv-2.1.0-cp38-cp38-linux_x86_64.whl'
    wrong.write_text('')
    result = run(MAKE, [str(tmp_path / 'h'), '--mmcv-wheel', str(wrong)], sys.executable)
    assert result.returncode == 2
    assert f'not an mmcv 2.1.0 wheel for Python {HERE}' in result.stderr
    assert not osp.exists(tmp_path / 'h')


def test_install_from_a_real_wheelhouse_into_a_fresh_venv(tmp_path, torch_only_python):
    mmcv = sorted(glob.glob(osp.join(MMCV_WHEELS, f'mmcv-2.1.0-{TAG}-*.whl')))
    house = os.environ.get('HIERASEG_TEST_WHEELHOUSE')
    made_here = not house
    if made_here:
        if not mmcv:
            pytest.skip(f'no prebuilt mmcv 2.1.0 wheel for {TAG} in {MMCV_WHEELS}')
        house = str(tmp_path / 'house')
        made = run(MAKE, [house, '--mmcv-wheel', mmcv[0]], sys.executable)
        offline = re.search(r'(?i)connection|network|resolve|timed out', made.stderr)
        if made.returncode != 0 and offline:
            pytest.skip('PyPI unreachable: ' + made.stderr.strip().splitlines()[-1])
        assert made.returncode == 0, made.stderr
        assert re.search(r'\d+ files, \S+ in ', made.stderr)  # the size is printed
        names = os.listdir(house)
        assert not [n for n in names if re.match(r'(?i)(torch|torchvision|nvidia_)[-_]', n)]
        assert 'mmcv-2.1.0.tar.gz' in names and any(n.startswith('hieraseg-') for n in names)
    # a venv with pip whose torch is linked in, as in torch_only_python
    target = tmp_path / 'target'
    base = getattr(sys, '_base_executable', sys.executable)
    subprocess.run([base, '-m', 'venv', str(target)], check=True)
    python = str(target / 'bin' / 'python')
    pth = subprocess.run([torch_only_python, '-c', 'import sys; print(next(p for p in sys.path '
                          'if p.endswith("site") and "torch_only" in p))'],
                         capture_output=True, text=True, check=True).stdout.strip()
    site = purelib(python)
    with open(osp.join(site, 'torch_only.pth'), 'w') as f:
        f.write(pth + '\n')
    result = run(INSTALL, [house], python)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'mmcv 2.1.0, mmengine 0.10.7, mmseg 1.2.2, mmpretrain 1.2.0' in result.stdout
    where = subprocess.run([python, '-c', 'import mmcv, mmseg, hieraseg; print(mmcv.__file__, '
                            'mmseg.__file__, hieraseg.__file__)'],
                           capture_output=True, text=True, check=True, cwd=str(tmp_path),
                           env=clean_env()).stdout.split()
    assert all(path.startswith(str(target)) for path in where), where
    shutil.rmtree(target, ignore_errors=True)  # some 500 MB: not kept by pytest's tmp dirs
    if made_here:
        shutil.rmtree(house, ignore_errors=True)

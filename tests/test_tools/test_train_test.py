"""tools/train.py, --resume and tools/test.py on the toy data, as a user runs them."""
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from .conftest import (REPO, TOY_CONFIG, call_tool, eval_options, run_tool,
                       short_run_options)

pytestmark = pytest.mark.slow  # end-to-end: left out by -m 'not slow'


@pytest.fixture(scope='module')
def trained(toy_trained):
    """Four iterations with checkpoints at 2 and 4 (the session's toy run)."""
    return toy_trained


def test_train_writes_checkpoints_and_logs_cpu_fallback(trained):
    work_dir, out = trained
    assert 'No CUDA device: using the gloo backend' in out
    # --max-iters 4 scaled the toy schedule (2000 iterations) and said so
    assert '--max-iters 4: param_scheduler.0.end 2000 -> 4' in out
    assert '--max-iters 4: train_cfg.max_iters 2000 -> 4' in out
    assert 'pkg_resources is deprecated' not in out and 'The prefix is not set' not in out
    assert osp.isfile(osp.join(work_dir, 'iter_2.pth'))
    checkpoint = torch.load(osp.join(work_dir, 'iter_4.pth'), weights_only=False)
    assert checkpoint['meta']['iter'] == 4
    assert {'state_dict', 'optimizer', 'message_hub'} <= set(checkpoint)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read().strip().endswith('iter_4.pth')
    assert 'mIoU_texture' in out and 'mIoU_colour' in out  # validation ran at the end
    # the triplet sampler's generator is saved with the weights, and it advanced
    key = 'decode_head.loss_triplet.generator_state'
    earlier = torch.load(osp.join(work_dir, 'iter_2.pth'), weights_only=False)
    assert not torch.equal(checkpoint['state_dict'][key], earlier['state_dict'][key])


def run_test_tool(checkpoint, toy_root, work_dir, *options):
    """tools/test.py on the toy config and data, with ``options``; (exit code, output)."""
    return run_tool([sys.executable, 'tools/test.py', TOY_CONFIG, checkpoint, '--work-dir',
                     str(work_dir), *options] + eval_options(toy_root))


def test_test_prints_miou_per_level_and_writes_pictures_and_predictions(trained, toy_root,
                                                                        tmp_path):
    """One test run with --show-dir and --out (each used to take a run of its own)."""
    work_dir, _ = trained
    checkpoint = osp.join(work_dir, 'iter_4.pth')
    show_dir, out_dir = tmp_path / 'vis', tmp_path / 'out'
    code, out = run_test_tool(checkpoint, toy_root, tmp_path, '--show-dir', str(show_dir),
                              '--out', str(out_dir))
    assert code == 0, out
    assert 'mIoU per level (finest first): texture=' in out and ', colour=' in out
    assert 'per class results at level 2 (colour)' in out
    # every val image, named as the image (and as --out names its prediction)
    pictures = sorted(show_dir.glob('*.png'))
    assert [p.name for p in pictures] == [f'toyville_val_00000{i}_leftImg8bit.png'
                                          for i in range(3)]
    assert sorted(p.name for p in show_dir.iterdir()) == [p.name for p in pictures]
    # a row per level (texture, colour) of titled panels, ground truth beside prediction,
    # 32 px images enlarged 8x to stay legible, then a legend
    width, height = Image.open(pictures[0]).size
    assert 2 * 256 < height < 2 * 256 + 100 and width > 2 * 256

    names = sorted(path.name for path in out_dir.glob('*.png'))
    assert names == [p.name for p in pictures]
    for level in ('texture', 'colour'):
        assert sorted(path.name for path in (out_dir / level).glob('*.png')) == names
    leaf = np.asarray(Image.open(out_dir / names[0]))
    colour = np.asarray(Image.open(out_dir / 'colour' / names[0]))
    assert leaf.shape == (32, 32) and leaf.max() < 6
    assert np.array_equal(colour, np.array([0, 1, 1, 2, 2, 2])[leaf])  # toy_shapes' tree


def test_format_only_writes_predictions_without_ground_truth(trained, toy_root, tmp_path):
    checkpoint = osp.join(trained[0], 'iter_4.pth')
    # format_only, with a pipeline that reads no ground truth
    no_gt = tmp_path / 'no_gt.py'
    no_gt.write_text(f'_base_ = [{osp.join(REPO, TOY_CONFIG)!r}]\n'
                     'test_dataloader = dict(dataset=dict(pipeline=[\n'
                     "    dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]))\n")
    code, out = run_tool([sys.executable, 'tools/test.py', str(no_gt), checkpoint,
                          '--work-dir', str(tmp_path), '--out', str(tmp_path / 'only')] +
                         eval_options(toy_root) +
                         ['test_evaluator.format_only=True'])
    assert code == 0, out
    assert 'format_only: no metric computed' in out and 'mIoU per level' not in out
    assert sorted(path.name for path in (tmp_path / 'only').glob('*.png')) == [
        f'toyville_val_00000{i}_leftImg8bit.png' for i in range(3)]


def test_a_failed_test_run_leaves_no_partial_results(trained, toy_root, tmp_path):
    import shutil
    data = tmp_path / 'data'
    shutil.copytree(toy_root, data)
    # the last validation image (in name order) cannot be read: the run fails after the
    # first two images' predictions and pictures were written
    last = sorted((data / 'leftImg8bit' / 'val').rglob('*.png'))[-1]
    last.write_bytes(b'not a png')
    checkpoint = osp.join(trained[0], 'iter_4.pth')
    code, out = run_tool([sys.executable, 'tools/test.py', TOY_CONFIG, checkpoint,
                          '--work-dir', str(tmp_path / 'work'), '--out', str(tmp_path / 'out'),
                          '--show-dir', str(tmp_path / 'show')] + eval_options(str(data)))
    assert code != 0
    assert f'the run failed: removed what it wrote to {tmp_path / "out"}' in out
    assert not (tmp_path / 'out').exists() and not (tmp_path / 'show').exists()


# The failures below come before any training: the tools' main() runs in this process.
def test_mismatched_checkpoint_is_an_error(trained, toy_root, tmp_path, monkeypatch):
    work_dir, _ = trained
    with pytest.raises(RuntimeError, match='does not fit the model of') as error:
        call_tool(monkeypatch, 'tools/test.py', TOY_CONFIG, osp.join(work_dir, 'iter_4.pth'),
                  '--work-dir', tmp_path, *eval_options(toy_root),
                  'model.decode_head.channels=32')
    assert 'size mismatch' in str(error.value)


def test_missing_config_and_data_root_fail_before_any_output(tmp_path, toy_root, monkeypatch):
    with pytest.raises(FileNotFoundError,
                       match="config file 'configs/hssn/nope.py' does not exist"):
        call_tool(monkeypatch, 'tools/train.py', 'configs/hssn/nope.py', '--work-dir',
                  tmp_path / 'a')
    missing = str(tmp_path / 'no_data')
    with pytest.raises(FileNotFoundError) as error:
        call_tool(monkeypatch, 'tools/train.py', TOY_CONFIG, '--work-dir', tmp_path / 'b',
                  *short_run_options(missing, 2, 2))
    assert f"--data-root '{missing}' does not exist" in str(error.value)
    assert not osp.exists(tmp_path / 'b')  # nothing half-written
    with pytest.raises(FileNotFoundError, match=r"x\.pth' does not exist"):
        call_tool(monkeypatch, 'tools/test.py', TOY_CONFIG, tmp_path / 'x.pth')


def test_misspelled_options_fail_before_any_output(tmp_path, toy_root, monkeypatch):
    """The checks themselves (hooks, loops): tests/test_utils/test_config_checks.py."""
    with pytest.raises(Exception) as error:
        call_tool(monkeypatch, 'tools/train.py', TOY_CONFIG, '--work-dir', tmp_path / 'work',
                  *short_run_options(toy_root, 2, 2), 'train_cfgg.max_iters=10')
    assert ("--cfg-options train_cfgg.max_iters: the config has no key 'train_cfgg' "
            "(closest: train_cfg)") in str(error.value)
    assert not osp.exists(tmp_path / 'work')


def test_empty_image_folder_is_named_before_any_output(tmp_path, toy_root, monkeypatch):
    import shutil
    data = tmp_path / 'data'
    shutil.copytree(toy_root, data)
    for path in (data / 'leftImg8bit' / 'train').rglob('*.png'):
        path.unlink()
    with pytest.raises(Exception) as error:
        call_tool(monkeypatch, 'tools/train.py', TOY_CONFIG, '--work-dir', tmp_path / 'work',
                  *short_run_options(str(data), 2, 2))
    assert (f"train_dataloader.dataset: image folder '{data}/leftImg8bit/train' (and its "
            "sub-folders) holds no file ending in img_suffix='_leftImg8bit.png'") \
        in str(error.value)
    assert not osp.exists(tmp_path / 'work')


def test_out_of_range_label_in_flat_training_names_the_file(tmp_path, toy_root):
    """The flat head's loss path (the data set's scan, check_labels, is turned off here;
    it is tested in tests/test_datasets/test_label_checks.py)."""
    import shutil
    data = tmp_path / 'data'
    shutil.copytree(toy_root, data)
    bad = sorted((data / 'gtFine' / 'train').rglob('*.png'))[0]
    labels = np.asarray(Image.open(bad)).copy()
    labels[0, 0] = 9
    Image.fromarray(labels).save(bad)
    flat = 'configs/dnc/fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'
    code, out = run_tool([sys.executable, 'tools/train.py', flat, '--work-dir',
                          str(tmp_path / 'flat')] + short_run_options(str(data), 2, 2) +
                         ['train_dataloader.dataset.check_labels=False',
                          'train_dataloader.batch_size=8'])
    assert code != 0 and 'out of bounds' not in out
    assert (f'FCNHead (model.decode_head): label 9 in the labels of {bad} is outside the 6 '
            'classes (0..5) and is not the ignore index 255') in out

"""tools/train.py and tools/test.py refuse, before anything is built or written, what would
fail later or be ignored: a schedule that ends before or after the training, missing
pre-trained weights offline, batch norm over one value, a --cfg-options key that changes
nothing, an argument a component does not take. main() runs in this process (it stops
before the Runner exists)."""
import time

import pytest

from .conftest import TOY_CONFIG, call_tool

HSSN_CITYSCAPES = 'configs/hssn/hssn-deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py'


@pytest.fixture
def work_dir(tmp_path):
    path = tmp_path / 'work'
    yield str(path)
    assert not path.exists()  # nothing written


def test_max_iters_alone_is_refused(monkeypatch, work_dir, toy_root):
    # the README's own-data trap: max_iters=400 left the poly decay at 2000 iterations
    with pytest.raises(ValueError, match=r'ends after the training: param_scheduler.0 \(PolyLR\) '
                       r'ends at iteration 2000 but train_cfg.max_iters is 400.*--max-iters N'):
        call_tool(monkeypatch, 'tools/train.py', TOY_CONFIG, '--work-dir', work_dir, '--data-root',
                  toy_root, '--cfg-options', 'train_cfg.max_iters=400')
    with pytest.raises(ValueError, match='give the number of iterations once'):
        call_tool(monkeypatch, 'tools/train.py', TOY_CONFIG, '--work-dir', work_dir, '--max-iters',
                  '4', '--cfg-options', 'train_cfg.max_iters=400')


def test_missing_pretrained_weights_offline_are_one_message_in_seconds(monkeypatch, work_dir,
                                                                       tmp_path):
    monkeypatch.setenv('HIERASEG_OFFLINE', '1')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    monkeypatch.delenv('HIERASEG_PRETRAINED_DIR', raising=False)
    start = time.monotonic()
    with pytest.raises(FileNotFoundError) as error:
        call_tool(monkeypatch, 'tools/train.py', HSSN_CITYSCAPES, '--work-dir', work_dir)
    assert time.monotonic() - start < 30  # no download attempt, no model built
    cache = tmp_path / 'torch' / 'hub' / 'checkpoints' / 'resnet101_v1c-e67eebb6.pth'
    message = str(error.value)
    assert "model.pretrained = 'open-mmlab://resnet101_v1c'" in message
    assert 'URL: https://download.openmmlab.com/pretrain/third_party/resnet101_v1c-e67eebb6.pth' \
        in message
    assert f'looked for: {cache} (the torch hub cache' in message
    assert 'tools/fetch_pretrained.py CONFIG --out DIR' in message
    assert '--pretrained-dir' in message
    assert message.endswith('train from scratch (random initial weights): --cfg-options '
                            'model.pretrained=None')


def test_batch_of_one_with_an_aspp_image_pool_is_refused(monkeypatch, work_dir):
    with pytest.raises(ValueError) as error:
        call_tool(monkeypatch, 'tools/train.py', HSSN_CITYSCAPES, '--work-dir', work_dir,
                  '--cfg-options', 'train_dataloader.batch_size=1', 'model.pretrained=None')
    message = str(error.value)
    assert message.startswith('train_dataloader.batch_size=1 per process, 1 process: '
                              'model.decode_head (HieraSepASPPHead) normalises its ASPP '
                              'image-pool branch with BN over a single value per channel')
    assert 'Expected more than 1 value per channel' in message
    assert 'train_dataloader.batch_size=2' in message and 'SyncBN' in message


@pytest.mark.parametrize('name', ['train', 'test'])
def test_config_variables_that_change_nothing_are_refused(monkeypatch, work_dir, tmp_path,
                                                          name):
    checkpoint = tmp_path / 'x.pth'
    checkpoint.write_bytes(b'')
    argv = [HSSN_CITYSCAPES] + ([str(checkpoint)] if name == 'test' else [])
    with pytest.raises(ValueError, match=r"--cfg-options data_root: 'data_root' is a variable "
                       r"of the config, and its value was copied into "
                       r"train_dataloader.dataset.data_root, .* changes nothing.*"
                       r"--data-root DIR"):
        call_tool(monkeypatch, f'tools/{name}.py', *argv, '--work-dir', work_dir, '--cfg-options',
                  'data_root=/elsewhere')
    with pytest.raises(ValueError, match=r"--cfg-options crop_size: 'crop_size' is a variable "
                       r"of the config, and its value was copied into "
                       r"data_preprocessor.size, model.data_preprocessor.size, "
                       r"train_dataloader.dataset.pipeline.3.crop_size when"):
        call_tool(monkeypatch, f'tools/{name}.py', *argv, '--work-dir', work_dir, '--cfg-options',
                  'crop_size=(256,512)')


def test_an_argument_the_metric_does_not_take_is_refused(monkeypatch, work_dir, toy_root,
                                                         tmp_path):
    checkpoint = tmp_path / 'x.pth'
    checkpoint.write_bytes(b'')
    with pytest.raises(TypeError, match=r"test_evaluator.calibration_bin: "
                       r"HierarchicalIoUMetric has no argument 'calibration_bin' \(closest: "
                       r"calibration_bins\); it takes beta, calibration_bins, collect_device"):
        call_tool(monkeypatch, 'tools/test.py', TOY_CONFIG, str(checkpoint), '--work-dir', work_dir,
                  '--data-root', toy_root, '--cfg-options', 'test_evaluator.calibration_bin=15')

"""The released Cityscapes layout end to end, as a user walks it: raw folder -> converter ->
tools/train.py on a real HSSN Cityscapes config (tiny sizes) with --data-root and
--max-iters -> the training data deleted -> tools/test.py --data-root --out --show-dir."""
import os
import os.path as osp
import shutil
import sys

import numpy as np
import pytest
from PIL import Image

from tests.test_dataset_converters.conftest import load_converter
from .conftest import run_tool

pytestmark = pytest.mark.slow  # end-to-end: left out by -m 'not slow'

CONFIG = 'configs/hssn/hssn-deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py'
H, W = 32, 64
TRAIN = [('aachen', 'aachen_000000_000019'), ('aachen', 'aachen_000001_000019')]
VAL = [('lindau', 'lindau_000000_000019'), ('lindau', 'lindau_000001_000019')]
# The config's model at a CPU-seconds size: ResNetV1c-18 at 16 base channels (stages of 16,
# 32, 64, 128 channels), narrow heads, no ImageNet weights; 32x64 images and crops.
TINY = [
    'model.pretrained=None', 'model.backbone.depth=18', 'model.backbone.stem_channels=16',
    'model.backbone.base_channels=16', 'model.decode_head.in_channels=128',
    'model.decode_head.channels=16', 'model.decode_head.c1_in_channels=16',
    'model.decode_head.c1_channels=8', 'model.decode_head.embedding_channels=8',
    'model.auxiliary_head.in_channels=64', 'model.auxiliary_head.channels=16',
    'model.data_preprocessor.size=(32,64)',
    'val_dataloader.dataset.pipeline.1.scale=(64,32)',
    'test_dataloader.dataset.pipeline.1.scale=(64,32)',
    # no worker processes: the config's persistent_workers=True is turned off by the tools
    'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
    'test_dataloader.num_workers=0', 'default_hooks.logger.interval=1',
]
TRAIN_ONLY = [
    'train_dataloader.dataset.pipeline.2.scale=(64,32)',
    'train_dataloader.dataset.pipeline.3.crop_size=(32,64)',
    'train_cfg.val_interval=4', 'default_hooks.checkpoint.interval=4',
]


def write_released(root):
    """Images and ``*_gtFine_labelIds.png`` label files (Cityscapes label ids) as released."""
    rng = np.random.default_rng(0)
    for split, frames in (('train', TRAIN), ('val', VAL)):
        for city, name in frames:
            for folder in ('leftImg8bit', 'gtFine'):
                os.makedirs(osp.join(root, folder, split, city), exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8)).save(
                osp.join(root, 'leftImg8bit', split, city, name + '_leftImg8bit.png'))
            ids = np.full((H, W), 7, dtype=np.uint8)  # road
            ids[:8] = 23  # sky
            ids[8:16, :32] = 11  # building
            ids[16:28, 40:56] = 26  # car
            ids[12:30, 4:10] = 24  # person
            Image.fromarray(ids).save(
                osp.join(root, 'gtFine', split, city, name + '_gtFine_labelIds.png'))


def test_released_cityscapes_converts_trains_and_tests_without_the_training_data(tmp_path):
    pytest.importorskip('cityscapesscripts')
    raw, data = str(tmp_path / 'raw'), str(tmp_path / 'cityscapes')
    write_released(raw)
    load_converter('cityscapes').main([raw, '-o', data])
    env = dict(XDG_CACHE_HOME=str(tmp_path / 'cache'))  # the label checks' cache

    work_dir = str(tmp_path / 'work')
    code, out = run_tool([sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir,
                          '--data-root', data, '--max-iters', '4', '--cfg-options'] +
                         TINY + TRAIN_ONLY, env=env)
    assert code == 0, out
    assert osp.isfile(osp.join(work_dir, 'iter_4.pth'))
    assert '--max-iters 4: param_scheduler.0.end 80000 -> 4' in out
    assert '--max-iters 4: train_cfg.max_iters 80000 -> 4' in out
    assert 'train_dataloader: num_workers=0, so persistent_workers is turned off' in out
    assert 'Iter(train) [4/4]' in out and 'mIoU per level (finest first): class=' in out
    for quiet in ('pkg_resources is deprecated', 'The prefix is not set'):
        assert quiet not in out

    # the test run reads the validation data only
    for folder in (osp.join(raw, 'leftImg8bit', 'train'), osp.join(raw, 'gtFine', 'train'),
                   osp.join(data, 'gtFine', 'train')):
        shutil.rmtree(folder)
    out_dir, show_dir = tmp_path / 'out', tmp_path / 'show'
    code, out = run_tool([sys.executable, 'tools/test.py', CONFIG,
                          osp.join(work_dir, 'iter_4.pth'), '--work-dir', str(tmp_path / 't'),
                          '--data-root', data, '--out', str(out_dir), '--show-dir',
                          str(show_dir), '--show-max-width', '300', '--cfg-options'] + TINY,
                         env=env)
    assert code == 0, out
    assert 'mIoU per level (finest first): class=' in out and ', category=' in out
    names = sorted(f'{name}_leftImg8bit.png' for _, name in VAL)
    assert sorted(os.listdir(show_dir)) == names  # <image name>.png, nothing else
    for name in names:
        width, height = Image.open(show_dir / name).size
        assert width == 300 and height > 0  # the pictures are wider at full size
        leaf = np.asarray(Image.open(out_dir / name))
        assert leaf.shape == (H, W) and leaf.max() < 19
        category = np.asarray(Image.open(out_dir / 'category' / name))
        # the official categories of the 19 train ids (docs/datasets.md)
        parents = np.array([0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 5, 6, 6, 6, 6, 6, 6])
        assert np.array_equal(category, parents[leaf])

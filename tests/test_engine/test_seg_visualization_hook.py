"""tools/test.py --show-dir: one picture per image, named after it, at most max_width pixels
wide, written whole or not at all, with no training loop involved."""
import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from PIL import Image

from hieraseg.engine import HieraSegVisualizationHook
from hieraseg.hierarchy import TOY_SHAPES_CLASSES
from hieraseg.visualization import HieraSegLocalVisualizer

PALETTE = [[0, 0, 0], [250, 0, 0], [0, 250, 0], [0, 0, 250], [250, 250, 0], [0, 250, 250]]


def sample_for(path, height, width):
    """An image file ``path`` and its data sample (ground truth and prediction)."""
    Image.fromarray(np.full((height, width, 3), 100, np.uint8)).save(path)
    gt = torch.zeros(1, height, width, dtype=torch.long)
    gt[:, :, width // 2:] = 1
    pred = gt.clone()
    pred[:, height // 2:] = 3
    return SegDataSample(gt_sem_seg=PixelData(data=gt), pred_sem_seg=PixelData(data=pred),
                         metainfo=dict(img_path=str(path)))


@pytest.fixture(scope='module')
def visualizer():
    visualizer = HieraSegLocalVisualizer.get_instance('hook_test', min_side=64)
    visualizer.dataset_meta = dict(classes=TOY_SHAPES_CLASSES, palette=PALETTE,
                                   hierarchy='toy_shapes')
    return visualizer


@pytest.mark.parametrize('max_width', [2048, 0])
def test_a_wide_picture_is_shrunk_to_max_width_unless_full_size(visualizer, tmp_path,
                                                                max_width):
    # a Cityscapes-wide image: two panels side by side plus a legend would be > 4096 px
    sample = sample_for(tmp_path / 'frankfurt_000000_000294_leftImg8bit.png', 64, 2400)
    out_dir = tmp_path / 'show'
    hook = HieraSegVisualizationHook(draw=True, out_dir=str(out_dir), max_width=max_width)
    runner = SimpleNamespace()  # nothing of the runner is read in a test run
    hook.after_test_iter(runner, 0, outputs=[sample])
    assert os.listdir(out_dir) == ['frankfurt_000000_000294_leftImg8bit.png']  # no partial
    width, height = Image.open(out_dir / 'frankfurt_000000_000294_leftImg8bit.png').size
    if max_width:
        assert width == 2048
    else:
        assert width > 2 * 2400


def test_the_image_and_maps_shrink_together_before_drawing(tmp_path):
    sample = sample_for(tmp_path / 'a.png', 10, 4000)
    hook = HieraSegVisualizationHook(max_width=1000)
    image, small = hook.shrink(np.zeros((10, 4000, 3), np.uint8), sample)
    assert image.shape == (round(10 / 4), 1000, 3)
    assert small.pred_sem_seg.data.shape == (1,) + image.shape[:2]
    assert small.gt_sem_seg.data.dtype == torch.long
    # nearest neighbour: still only the ids drawn, the right half class 1
    assert set(small.gt_sem_seg.data.unique().tolist()) == {0, 1}
    assert (small.gt_sem_seg.data[:, :, 500:] == 1).all()
    assert sample.gt_sem_seg.data.shape == (1, 10, 4000)  # the original is unchanged
    assert hook.shrink(np.zeros((10, 900, 3), np.uint8), sample)[1] is sample


def test_validation_pictures_go_to_a_folder_per_iteration(visualizer, tmp_path):
    sample = sample_for(tmp_path / 'b_leftImg8bit.png', 16, 32)
    hub = MessageHub.get_instance('hook_test_hub')
    hub.update_info('iter', 40)
    hook = HieraSegVisualizationHook(draw=True, interval=2, out_dir=str(tmp_path / 'show'))
    runner = SimpleNamespace(message_hub=hub)
    hook.after_val_iter(runner, 0, outputs=[sample])  # the first batch: not the 2nd
    assert not (tmp_path / 'show').exists()
    hook.after_val_iter(runner, 1, outputs=[sample])
    assert os.listdir(tmp_path / 'show' / 'iter_40') == ['b_leftImg8bit.png']


def test_bad_arguments_are_errors():
    with pytest.raises(ValueError, match='max_width must be an integer >= 0'):
        HieraSegVisualizationHook(max_width=-1)
    with pytest.raises(ValueError, match='interval must be an integer >= 1'):
        HieraSegVisualizationHook(interval=0)

from types import SimpleNamespace

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from hieraseg.engine import LabelRangeCheckHook


def batch(*labels):
    samples = []
    for i, value in enumerate(labels):
        sample = SegDataSample(gt_sem_seg=PixelData(data=torch.full((1, 4, 4), value)))
        sample.set_metainfo(dict(seg_map_path=f'/data/{i}_gtFine_labelTrainIds.png'))
        samples.append(sample)
    return dict(inputs=[], data_samples=samples)


def test_a_flat_head_gets_the_file_and_the_classes_named():
    head = SimpleNamespace(num_classes=6, ignore_index=255)
    runner = SimpleNamespace(model=SimpleNamespace(decode_head=head, auxiliary_head=None))
    hook = LabelRangeCheckHook()
    hook.before_train(runner)
    hook.before_train_iter(runner, 0, batch(0, 5, 255))
    with pytest.raises(ValueError, match=r'\(model.decode_head\): label 9 in the labels of '
                       r'/data/1_gtFine_labelTrainIds.png is outside the 6 classes \(0..5\)'):
        hook.before_train_iter(runner, 0, batch(2, 9))

import numpy as np
import pytest
import torch
from mmseg.evaluation import IoUMetric
from PIL import Image

from hieraseg.evaluation import HierarchicalIoUMetric
from hieraseg.hierarchy import TOY_SHAPES_CLASSES


def sample(pred, gt):
    return dict(pred_sem_seg=dict(data=torch.tensor(pred)[None]),
                gt_sem_seg=dict(data=torch.tensor(gt)[None]))


def run(metric, samples):
    metric.dataset_meta = dict(classes=TOY_SHAPES_CLASSES, hierarchy='toy_shapes')
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def test_hand_computed_values():
    # toy_shapes: background -> background; 1, 2 -> warm; 3, 4, 5 -> cool.
    pred = [[0, 1, 2], [3, 4, 5]]
    gt = [[0, 2, 2], [3, 255, 4]]
    result = run(HierarchicalIoUMetric(), [sample(pred, gt)])
    # leaves: IoU = 1, 0, 1/2, 1, 0, 0; Acc = 1, nan, 1/2, 1, 0, nan; 3 of 5 pixels right.
    assert result['mIoU_texture'] == pytest.approx(round(2.5 / 6 * 100, 2))
    assert result['mAcc_texture'] == pytest.approx(62.5)
    assert result['aAcc_texture'] == pytest.approx(60.0)
    # colours: every valid pixel lands in its family.
    assert result['mIoU_colour'] == result['mAcc_colour'] == result['aAcc_colour'] == 100.0
    assert (result['mIoU'], result['mAcc'], result['aAcc']) == (
        result['mIoU_texture'], result['mAcc_texture'], result['aAcc_texture'])
    assert list(result)[:3] == ['mIoU', 'mAcc', 'aAcc']
    assert list(result)[3:] == ['aAcc_texture', 'mIoU_texture', 'mAcc_texture',
                                'aAcc_colour', 'mIoU_colour', 'mAcc_colour']


def test_finest_level_equals_mmseg_iou_metric():
    generator = torch.Generator().manual_seed(0)
    samples = []
    for _ in range(4):
        gt = torch.randint(0, 6, (9, 11), generator=generator)
        gt[torch.rand(9, 11, generator=generator) < 0.1] = 255
        pred = torch.where(torch.rand(9, 11, generator=generator) < 0.6, gt,
                           torch.randint(0, 6, (9, 11), generator=generator))
        pred[pred == 255] = 0
        samples.append(sample(pred.tolist(), gt.tolist()))
    ours = run(HierarchicalIoUMetric(), samples)
    reference = IoUMetric()
    reference.dataset_meta = dict(classes=TOY_SHAPES_CLASSES)
    reference.process({}, samples)
    theirs = reference.compute_metrics(reference.results)
    assert ours['mIoU'] == theirs['mIoU'] and ours['aAcc'] == theirs['aAcc']
    assert ours['mAcc'] == theirs['mAcc']


def test_errors_name_the_problem():
    metric = HierarchicalIoUMetric()
    metric.dataset_meta = dict(classes=TOY_SHAPES_CLASSES)
    with pytest.raises(ValueError, match='has no hierarchy'):
        metric.process({}, [sample([[0]], [[0]])])
    metric = HierarchicalIoUMetric(hierarchy='cityscapes')
    metric.dataset_meta = dict(classes=TOY_SHAPES_CLASSES)
    with pytest.raises(ValueError, match='19 leaf classes but the evaluated data set has 6'):
        metric.process({}, [sample([[0]], [[0]])])
    with pytest.raises(ValueError, match='mIoU'):
        HierarchicalIoUMetric(iou_metrics=['mDice'])


def test_output_dir_gets_the_leaf_png_and_one_folder_per_level(tmp_path):
    pred = [[0, 1, 2], [3, 4, 5]]
    metric = HierarchicalIoUMetric(output_dir=str(tmp_path))
    data_sample = dict(sample(pred, pred), img_path='/data/a/x_leftImg8bit.png')
    result = run(metric, [data_sample])
    assert result['mIoU_texture'] == 100.0
    read = {path.relative_to(tmp_path).as_posix(): np.asarray(Image.open(path)).tolist()
            for path in tmp_path.rglob('*.png')}
    assert read == {'x_leftImg8bit.png': pred, 'texture/x_leftImg8bit.png': pred,
                    'colour/x_leftImg8bit.png': [[0, 1, 1], [2, 2, 2]]}


def test_format_only_writes_without_ground_truth(tmp_path):
    metric = HierarchicalIoUMetric(output_dir=str(tmp_path), format_only=True)
    data_sample = dict(pred_sem_seg=dict(data=torch.tensor([[[1, 2], [3, 0]]])),
                       img_path='y.jpg', reduce_zero_label=True)
    assert run(metric, [data_sample]) == {}
    assert np.asarray(Image.open(tmp_path / 'y.png')).tolist() == [[2, 3], [4, 1]]  # + 1
    assert np.asarray(Image.open(tmp_path / 'colour' / 'y.png')).tolist() == [[1, 1], [2, 0]]
    with pytest.raises(ValueError, match='needs output_dir'):
        HierarchicalIoUMetric(format_only=True)

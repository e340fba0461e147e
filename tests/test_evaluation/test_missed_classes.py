"""The end-of-evaluation warning: per level, the classes with ground truth but IoU 0."""
import torch
from mmengine.logging import MMLogger

from hieraseg.evaluation import HierarchicalIoUMetric
from hieraseg.evaluation.metrics.missed_classes import MissedClass, missed_classes
from hieraseg.hierarchy import TOY_SHAPES_CLASSES, build_hierarchy


def evaluate(pred, gt, tmp_path, name):
    """compute_metrics of one image under a fresh logger; (metric, its log text)."""
    log_file = tmp_path / f'{name}.log'
    MMLogger.get_instance(name, log_file=str(log_file))
    metric = HierarchicalIoUMetric()
    metric.dataset_meta = dict(classes=TOY_SHAPES_CLASSES, hierarchy='toy_shapes')
    metric.process({}, [dict(pred_sem_seg=dict(data=torch.tensor(pred)[None]),
                             gt_sem_seg=dict(data=torch.tensor(gt)[None]))])
    metric.compute_metrics(metric.results)
    return metric, log_file.read_text()


def per_level(metric):
    """The metric's per-image, per-level areas (each result also holds calibration
    counts)."""
    return [image[0] for image in metric.results]


def test_never_predicted_and_predicted_elsewhere_per_level(tmp_path):
    # toy_shapes: background; warm plain (1), warm striped (2) -> warm; 3, 4, 5 -> cool.
    # warm plain and warm striped swap places (each predicted once, never right); cool
    # striped (4) has ground truth but is predicted only on an ignored pixel; at the colour
    # level warm is right, and cool is never predicted where it is: every cool pixel is
    # predicted as background.
    pred = [[1, 2, 4, 0], [0, 0, 3, 0]]
    gt = [[2, 1, 255, 4], [0, 0, 0, 3]]
    metric, log = evaluate(pred, gt, tmp_path, 'missed_classes_a')
    hierarchy = build_hierarchy('toy_shapes')
    assert missed_classes(hierarchy, per_level(metric)) == [
        MissedClass(0, 1, 'warm plain', 1, 1), MissedClass(0, 2, 'warm striped', 1, 1),
        MissedClass(0, 3, 'cool plain', 1, 1), MissedClass(0, 4, 'cool striped', 1, 0),
        MissedClass(1, 2, 'cool', 2, 1)]
    assert '5 classes have ground truth in the evaluated images but IoU 0' in log
    assert ('  level 1 (texture): warm plain (1 px of ground truth, predicted on 1 px, none '
            'of them right); warm striped (1 px of ground truth, predicted on 1 px, none of '
            'them right); cool plain (1 px of ground truth, predicted on 1 px, none of them '
            'right); cool striped (1 px of ground truth, never predicted)\n'
            '  level 2 (colour): cool (2 px of ground truth, predicted on 1 px, none of them '
            'right)') in log
    assert 'WARNING' in log


def test_no_warning_when_every_class_with_ground_truth_is_found(tmp_path):
    # background and warm plain right somewhere; cool dotted predicted but has no ground truth
    metric, log = evaluate([[0, 1, 5]], [[0, 1, 1]], tmp_path, 'missed_classes_b')
    assert missed_classes(build_hierarchy('toy_shapes'), per_level(metric)) == []
    assert 'IoU 0' not in log and 'mIoU per level' in log


def test_one_missed_class_is_counted_in_the_singular(tmp_path):
    # warm striped (2) is predicted as warm plain: only it is missed (warm is right)
    metric, log = evaluate([[0, 1, 1]], [[0, 1, 2]], tmp_path, 'missed_classes_c')
    assert missed_classes(build_hierarchy('toy_shapes'), per_level(metric)) == [
        MissedClass(0, 2, 'warm striped', 1, 0)]
    assert '1 class has ground truth in the evaluated images but IoU 0' in log

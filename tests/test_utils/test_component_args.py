"""Arguments a hieraseg component does not take are errors at config-load time, following
``**kwargs`` up the class's MRO as it is really handed on."""
import copy
import os.path as osp
from functools import lru_cache

import pytest
from mmengine.config import Config

from hieraseg.evaluation import HierarchicalIoUMetric
from hieraseg.utils.component_args import accepted_arguments, check_component_args

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
HSSN_TOY = osp.join(REPO, 'configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py')
HSSN_CITYSCAPES = osp.join(
    REPO, 'configs/hssn/hssn-deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py')


@lru_cache(maxsize=None)
def _load(path):
    return Config.fromfile(path)


def load(path):
    """A config of its own (each file is read once)."""
    return copy.deepcopy(_load(path))


def test_the_metric_no_longer_drops_unknown_arguments():
    with pytest.raises(TypeError, match='calibration_bin'):
        HierarchicalIoUMetric(calibration_bin=15)
    metric = HierarchicalIoUMetric(hierarchy='toy_shapes', collect_device='cpu', nan_to_num=0)
    assert metric.nan_to_num == 0 and metric.prefix == ''  # no prefix, and no warning


def with_options(path, **options):
    cfg = load(path)
    cfg.merge_from_dict(options)
    return cfg


@pytest.mark.parametrize('path, option, message', [
    (HSSN_TOY, {'test_evaluator.calibration_bin': 15},
     r"test_evaluator.calibration_bin: HierarchicalIoUMetric has no argument "
     r"'calibration_bin' \(closest: calibration_bins\); it takes beta, calibration_bins, "
     r"collect_device, format_only, hierarchy, ignore_index, iou_metrics, nan_to_num, "
     r"output_dir, prefix"),
    (HSSN_TOY, {'model.decode_head.embeding_channels': 8},
     r"model.decode_head.embeding_channels: HieraFCNHead has no argument 'embeding_channels' "
     r"\(closest: embedding_channels"),
    (HSSN_TOY, {'model.decode_head.loss_decode.0.gama': 1.0},
     r"model.decode_head.loss_decode\[0\].gama: TreeMinLoss has no argument 'gama' "
     r"\(closest: gamma\)"),
    (HSSN_TOY, {'train_dataloader.dataset.chek_labels': True},
     r"train_dataloader.dataset.chek_labels: ToyShapesDataset has no argument 'chek_labels' "
     r"\(closest: check_labels\)"),
    (HSSN_TOY, {'visualizer.min_sid': 64},
     r"visualizer.min_sid: HieraSegLocalVisualizer has no argument 'min_sid' \(closest: "
     r"min_side"),
    (HSSN_CITYSCAPES, {'model.decode_head.c1_chanels': 8},
     r"model.decode_head.c1_chanels: HieraSepASPPHead has no argument 'c1_chanels' "
     r"\(closest: c1_channels"),
])
def test_unknown_arguments_of_hieraseg_components_are_errors(path, option, message):
    check_component_args(load(path))  # the config as shipped passes
    with pytest.raises(TypeError, match=message):
        check_component_args(with_options(path, **option))


def test_arguments_of_parent_classes_are_accepted():
    # DepthwiseSeparableASPPHead's and ASPPHead's, through HieraHeadMixin's **kwargs; the
    # metric's IoUMetric arguments; the data set's BaseSegDataset arguments
    check_component_args(with_options(
        HSSN_CITYSCAPES, **{'model.decode_head.dilations': (1, 6, 12, 18),
                            'model.decode_head.c1_channels': 8,
                            'val_evaluator.collect_device': 'cpu',
                            'train_dataloader.dataset.reduce_zero_label': False}))


def test_components_of_other_packages_are_left_to_their_classes():
    # mmseg's ResNetV1c would raise its own TypeError when built
    check_component_args(with_options(HSSN_TOY, **{'model.backbone.dept': 18}))


class Base:
    def __init__(self, a=1, **kwargs):  # drops what it does not know
        self.a = a


class Handing(Base):
    def __init__(self, b=2, **kwargs):
        kwargs.setdefault('a', 3)
        if kwargs.get('a') == 0:
            raise ValueError
        super().__init__(**kwargs)


class Popping(Handing):
    def __init__(self, **kwargs):
        self.c = kwargs.pop('c', 0)
        super().__init__(**kwargs)


class Elsewhere(Base):
    def __init__(self, **kwargs):
        self.options = dict(kwargs)
        super().__init__()


def test_accepted_arguments_follow_kwargs_as_handed_on():
    assert accepted_arguments(Base) == ('a', )
    assert accepted_arguments(Handing) == ('b', 'a')  # read and filled, then handed on
    assert accepted_arguments(Popping) == ('c', 'b', 'a')  # a key it takes for itself
    assert accepted_arguments(Elsewhere) is None  # used otherwise: cannot be known

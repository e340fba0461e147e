"""Every cross-domain config (configs/cross_domain: 3 Cityscapes models x 5 target domains)
takes one evaluation step on tiny converted files of its target: its test data set reads them
and its metric reports mIoU, ECE and class-wise ECE for the 19 classes and the 7 categories."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope
from mmseg.registry import DATASETS, METRICS, MODELS

from hieraseg.utils import adapt_cfg_to_device
from tests.test_dataset_converters.test_cross_domain import TARGETS, convert

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'cross_domain', '*.py')))
MODELS_OF = {  # config name prefix -> the segmentor it builds
    'deeplabv3plus': 'EncoderDecoder', 'hssn': 'HieraEncoderDecoder',
    'hiera-dnc': 'HieraEncoderDecoder'}
SMALL_TEST_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 24), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]


def target_of(path):
    return osp.basename(path).split('_cityscapes-to-')[1][:-3].replace('-', '_')


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """Every target's tiny release converted: {target: data_root}."""
    return {target: convert(target, tmp_path_factory.mktemp(target))[0] for target in TARGETS}


def test_there_is_a_config_per_model_and_target():
    assert len(CONFIGS) == 15
    assert {target_of(path) for path in CONFIGS} == set(TARGETS)


@pytest.mark.parametrize('prefix', sorted(MODELS_OF))
def test_one_evaluation_step_per_target(prefix, converted):
    paths = [path for path in CONFIGS if osp.basename(path).startswith(prefix + '_')
             or osp.basename(path).startswith(prefix + '-deeplabv3plus')]
    assert len(paths) == 5
    model = None
    for path in paths:
        cfg = Config.fromfile(path)
        adapt_cfg_to_device(cfg)
        # Cityscapes stays the val set (fitting temperatures in domain)
        assert cfg.val_dataloader.dataset.data_root == 'data/cityscapes/'
        assert cfg.test_evaluator.calibration_bins == 15
        dataset_cfg = dict(cfg.test_dataloader.dataset, data_root=converted[target_of(path)],
                           pipeline=SMALL_TEST_PIPELINE)
        with DefaultScope.overwrite_default_scope(cfg.default_scope):
            dataset = DATASETS.build(dataset_cfg)
            if model is None:  # the same model for the five targets
                model_cfg = cfg.model.copy()
                model_cfg.pop('pretrained', None)
                model_cfg.backbone.depth = 50  # R101's channels, half the build time
                torch.manual_seed(0)
                model = MODELS.build(model_cfg).eval()
                assert type(model).__name__ == MODELS_OF[prefix]
            metric = METRICS.build(cfg.test_evaluator)
        metric.dataset_meta = dataset.metainfo
        assert dataset.metainfo['hierarchy'] == 'cityscapes' and len(dataset) >= 1
        with torch.no_grad():
            outputs = model.test_step(pseudo_collate([dataset[0]]))
        metric.process({}, [sample.to_dict() for sample in outputs])
        result = metric.compute_metrics(metric.results)
        for key in ('mIoU_class', 'mIoU_category', 'ECE_class', 'ECE_category',
                    'cwECE_class', 'cwECE_category'):
            assert np.isfinite(result[key]), (path, key, result)

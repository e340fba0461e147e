"""One HSSN training iteration of the toy-size model on a built data set, for the tests of
data sets and converters: the converted files load and pass through loss and backward."""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from mmseg.registry import DATASETS, MODELS

from hieraseg.utils import adapt_cfg_to_device

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CUSTOM_CONFIG = osp.join(REPO, 'configs/custom/hssn-fcn_r18-w16_custom.py')
SIZE = 32
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=(SIZE, SIZE), keep_ratio=False),
    dict(type='PackSegInputs'),
]


def train_one_iteration(dataset_cfg: dict, hierarchy, batch_size: int = 2) -> dict:
    """Builds ``dataset_cfg`` (its pipeline replaced by a fixed-size one), then the custom
    template's HSSN model over ``hierarchy``, and runs one optimiser step on the first
    ``batch_size`` samples. Returns the log vars; checks they are finite and that the head's
    classifier changed."""
    cfg = Config.fromfile(CUSTOM_CONFIG)
    adapt_cfg_to_device(cfg)
    cfg.model.decode_head.hierarchy = hierarchy
    cfg.model.data_preprocessor.size = (SIZE, SIZE)
    with DefaultScope.overwrite_default_scope('mmseg'):
        dataset = DATASETS.build(dict(dataset_cfg, pipeline=PIPELINE))
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
    model.train()
    data = pseudo_collate([dataset[i] for i in range(min(batch_size, len(dataset)))])
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    before = model.decode_head.conv_seg.weight.detach().clone()
    log_vars = model.train_step(data, optim_wrapper)
    assert all(torch.isfinite(torch.as_tensor(v).detach()).all() for v in log_vars.values()), \
        log_vars
    assert float(log_vars['loss'].detach()) > 0
    assert not torch.equal(before, model.decode_head.conv_seg.weight.detach())
    return log_vars

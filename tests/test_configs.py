"""Every config in configs/ loads and builds its model, and a wrong hierarchy is caught on
the config, before anything is built."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DATASETS, MODELS, TRANSFORMS, DefaultScope

from hieraseg.hierarchy import HierarchyError
from hieraseg.utils import check_hierarchy_fits_data
from hieraseg.utils.component_args import check_component_args
from hieraseg.utils.config_checks import dataset_cfgs
from hieraseg.utils.schedule import check_schedule_fits

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    osp.relpath(path, REPO) for path in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                                                  recursive=True)
    # not the bases, nor the own-data templates' data part (configs/custom/custom_data.py)
    if '_base_' not in path.split(osp.sep) and osp.basename(path) != 'custom_data.py')


def test_there_are_configs():
    assert len(CONFIGS) >= 10


@pytest.mark.parametrize('path', CONFIGS)
def test_config_builds(path, no_random_init):
    cfg = Config.fromfile(osp.join(REPO, path))
    assert 'hieraseg' in cfg.custom_imports['imports']
    check_hierarchy_fits_data(cfg)
    check_schedule_fits(cfg)  # the learning-rate schedule ends with the training
    check_component_args(cfg)  # no argument a hieraseg component would not take
    model_cfg = cfg.model.copy()
    model_cfg.pop('pretrained', None)  # nothing is downloaded
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) > 0
    # data sets and transforms named in the config exist
    for _, where, dataset in dataset_cfgs(cfg):
        with DATASETS.switch_scope_and_registry(cfg.default_scope) as registry:
            assert registry.get(dataset.type) is not None, f'{where}: {dataset.type}'
        for step in transform_types(dataset.get('pipeline') or []):
            with TRANSFORMS.switch_scope_and_registry(cfg.default_scope) as registry:
                assert registry.get(step) is not None, f'{where}.pipeline: {step}'


def transform_types(pipeline):
    """Transform type names in a pipeline, including those nested in TestTimeAug."""
    for step in pipeline:
        if isinstance(step, (list, tuple)):
            yield from transform_types(step)
        elif isinstance(step, dict):
            yield step['type']
            yield from transform_types(step.get('transforms') or [])


def test_wrong_hierarchy_is_a_config_error():
    cfg = Config.fromfile(osp.join(REPO,
                                   'configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'))
    cfg.model.decode_head.hierarchy = 'cityscapes'
    with pytest.raises(HierarchyError, match='19 leaf classes but train_dataloader.dataset '
                       r'\(ToyShapesDataset\), used by model.decode_head has 6'):
        check_hierarchy_fits_data(cfg)


# training configs (configs/cross_domain only tests them on other data sets)
HIERA_DNC_CONFIGS = [path for path in CONFIGS if osp.basename(path).startswith('hiera-dnc-')
                     and not path.startswith(osp.join('configs', 'cross_domain'))]


@pytest.mark.parametrize('path', HIERA_DNC_CONFIGS)
def test_hierarchical_dnc_configs_train_with_the_hierarchical_dnc_objective(path):
    # not the HSSN recipe they inherit: its 5 x focal tree-min lost leaf classes with
    # sub-centroid logits (README, "HSSN ablation")
    recipe = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'hssn_recipe.py'))
    cfg = Config.fromfile(osp.join(REPO, path))
    head = cfg.model.decode_head
    assert head.loss_decode == recipe.hiera_dnc_loss_decode
    assert head.loss_decode != recipe.hssn_loss_decode
    # and classify upsampled embeddings, after a warm-up that ends where the poly decay
    # starts, which ends with the training (README, "HSSN ablation")
    assert head.classify_upsampled is True
    warmup, poly = cfg.param_scheduler
    assert warmup.type == 'LinearLR' and poly.type == 'PolyLR'
    assert warmup.begin == 0 and warmup.end == poly.begin
    assert poly.end == cfg.train_cfg.max_iters


def test_every_data_set_with_an_hssn_config_has_a_hierarchical_dnc_config():
    # the five data sets, and the two own-data templates (FCN, DeepLabV3+)
    assert len(HIERA_DNC_CONFIGS) == 7

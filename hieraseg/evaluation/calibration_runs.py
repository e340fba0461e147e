"""What tools/calibrate_temperature.py and tools/reliability_diagram.py share: a trained
segmentor and one split's data loader from a config, and the split's class hierarchy."""
import copy
from typing import Optional

import torch
from mmengine.config import Config, ConfigDict
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import DefaultScope
from mmengine.runner import Runner, load_checkpoint

from hieraseg.hierarchy import ClassHierarchy, build_hierarchy

DATALOADERS = {'val': 'val_dataloader', 'test': 'test_dataloader'}
CALIBRATABLE = ('HieraEncoderDecoder', 'FlatHieraEncoderDecoder')
FLAT = ('EncoderDecoder', 'mmseg.EncoderDecoder')


def build_split_dataloader(cfg: Config, split: str):
    """The config's ``<split>_dataloader`` (``'val'`` or ``'test'``), built."""
    if split not in DATALOADERS or not cfg.get(DATALOADERS[split]):
        raise ValueError(f'{cfg.filename}: no {DATALOADERS.get(split, split)!r} to calibrate on')
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmseg')):
        return Runner.build_dataloader(copy.deepcopy(cfg[DATALOADERS[split]]))


def dataset_hierarchy(dataloader, cfg: Config) -> ClassHierarchy:
    """The data set's hierarchy (``metainfo['hierarchy']``), else the model config's."""
    spec = dataloader.dataset.metainfo.get('hierarchy')
    if spec is None:
        model = cfg.model
        spec = model.get('hierarchy') or (model.get('decode_head') or {}).get('hierarchy')
    if spec is None:
        raise ValueError(f'{cfg.filename}: neither the data set nor the model names a class '
                         'hierarchy')
    return build_hierarchy(spec)


def hierarchy_spec(hierarchy: ClassHierarchy, spec) -> object:
    """What to write into a config for ``hierarchy``: its built-in name if ``spec`` was one,
    else its dict form."""
    return spec if isinstance(spec, str) else hierarchy.to_dict()


def make_calibratable(cfg: Config, hierarchy: ClassHierarchy, spec) -> bool:
    """Turns a flat ``EncoderDecoder`` model config into a :class:`FlatHieraEncoderDecoder`
    (same weights, plus the levels and their temperatures); True if it did. Other segmentor
    types than hieraseg's two and mmseg's EncoderDecoder are an error."""
    model_type = cfg.model.get('type')
    if model_type in FLAT:
        cfg.model['type'] = 'FlatHieraEncoderDecoder'
        cfg.model['hierarchy'] = hierarchy_spec(hierarchy, spec)
        return True
    if model_type not in CALIBRATABLE:
        raise ValueError(f'{cfg.filename}: model type {model_type!r} has no per-level '
                         f'probabilities; calibration supports {CALIBRATABLE + FLAT[:1]}')
    return False


def build_trained_segmentor(cfg: Config, checkpoint: str,
                            device: Optional[str] = None) -> torch.nn.Module:
    """The config's model with ``checkpoint`` loaded strictly (a checkpoint that does not fit
    is an error), SyncBN reverted to BN, in eval mode on ``device`` (default: cuda if there is
    one)."""
    from mmseg.registry import MODELS
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmseg')):
        model = MODELS.build(copy.deepcopy(cfg.model))
    try:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True, logger='silent')
    except RuntimeError as error:
        raise ValueError(f'checkpoint {checkpoint} does not fit the model of {cfg.filename}:\n'
                         f'{error}') from None
    return revert_sync_batchnorm(model).to(device).eval()


def set_level_temperatures(model, temperatures) -> None:
    """Sets (None: removes) ``model.test_cfg.level_temperatures``, checked by the model."""
    test_cfg = ConfigDict(copy.deepcopy(model.test_cfg or {}))  # mmseg reads test_cfg.mode
    test_cfg['level_temperatures'] = temperatures
    model.test_cfg = test_cfg
    model.level_test_settings()

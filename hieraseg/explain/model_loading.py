"""Loading a trained DNC model for the explanation tools: config + checkpoint ->
:class:`DNCModel`.

:func:`load_dnc_model` builds the model of a config (mmseg segmentor or mmpretrain
classifier), loads a checkpoint strictly, finds the :class:`SubCentroidClassifier` that
makes the model's predictions (``decode_head.classifier`` / ``head.classifier``) and the
class names (the checkpoint's ``dataset_meta``, else the config's data set).
:func:`find_state_dict` and :func:`strip_wrapper_prefix` read checkpoints' state dicts
(also for :mod:`.real_observation`).
"""
import copy
import os.path as osp
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import DATASETS, MODELS, DefaultScope
from torch import Tensor

from hieraseg.models.utils import SubCentroidClassifier
from hieraseg.utils.checkpoint import load_checkpoint_file
from hieraseg.utils.config_checks import nested_dataset_cfgs
from hieraseg.utils.tools import load_config
from .dnc_model import CLASSIFICATION, SEGMENTATION, DNCModel, NotADNCModelError

__all__ = ['find_state_dict', 'load_dnc_model', 'strip_wrapper_prefix']


def find_state_dict(checkpoint) -> Dict[str, Tensor]:
    """The state dict of a loaded checkpoint (its ``'state_dict'``, or the checkpoint
    itself when it is a bare state dict)."""
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise ValueError('not a checkpoint: no state dict in it')
    return state


def strip_wrapper_prefix(key: str) -> str:
    """A state-dict key without the ``'module.'`` of a DDP-wrapped model's."""
    return key[len('module.'):] if key.startswith('module.') else key


def _find_task_and_classifier(model: nn.Module, config_path: str):
    if hasattr(model, 'decode_head'):
        task, name, head = SEGMENTATION, 'decode_head', model.decode_head
    elif hasattr(model, 'head'):
        task, name, head = CLASSIFICATION, 'head', model.head
    else:
        raise NotADNCModelError(f'config {config_path} builds {type(model).__name__}, '
                                'neither a segmentor with a decode_head nor a classifier '
                                'with a head')
    classifier = getattr(head, 'classifier', None)
    if not isinstance(classifier, SubCentroidClassifier):
        raise NotADNCModelError(f'config {config_path}: {name} is {type(head).__name__}, '
                                'not a DNC head (no sub-centroid classifier)')
    return task, classifier, f'{name}.classifier'


def _dataset_meta(cfg: Config, checkpoint: dict) -> dict:
    meta = (checkpoint.get('meta') or {}).get('dataset_meta') or {}
    if meta.get('classes'):
        return dict(meta)
    loader = cfg.get('train_dataloader') or cfg.get('test_dataloader') or {}
    dataset = loader.get('dataset') or {}
    for _, inner in nested_dataset_cfgs(dataset):
        dataset_type = inner.get('type')
        with DATASETS.switch_scope_and_registry(cfg.get('default_scope')) as registry:
            cls = registry.get(dataset_type) if isinstance(dataset_type, str) else dataset_type
        found = dict(getattr(cls, 'METAINFO', None) or {})
        found.update(inner.get('metainfo') or {})
        if found.get('classes'):
            return found
    return {}


def load_dnc_model(config: str,
                   checkpoint: str,
                   device: Optional[str] = None,
                   cfg_options: Optional[dict] = None) -> DNCModel:
    """Builds the model of ``config``, loads ``checkpoint`` strictly, eval mode.

    Raises:
        FileNotFoundError: the config or checkpoint does not exist.
        NotADNCModelError: the checkpoint has no sub-centroid buffer, or the config builds
            no DNC head.
        ValueError: the checkpoint does not fit the model.
    """
    cfg = load_config(config, cfg_options)
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint!r} does not exist')
    ckpt = load_checkpoint_file(checkpoint, map_location='cpu')
    state = {strip_wrapper_prefix(k): v for k, v in find_state_dict(ckpt).items()}
    if not any(k.endswith('classifier.centroids') for k in state):
        raise NotADNCModelError(
            f"checkpoint {checkpoint} has no DNC sub-centroids (no '...classifier.centroids' "
            'buffer): not a DNC model')

    model_cfg = copy.deepcopy(cfg.model)
    if cfg.get('data_preprocessor') is not None:  # mmpretrain configs keep it at top level
        model_cfg.setdefault('data_preprocessor', copy.deepcopy(cfg.data_preprocessor))
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        model = MODELS.build(model_cfg)
    model = revert_sync_batchnorm(model)
    task, classifier, classifier_name = _find_task_and_classifier(model, config)
    centroids_key = f'{classifier_name}.centroids'
    if centroids_key not in state:
        raise NotADNCModelError(
            f"checkpoint {checkpoint} has no DNC sub-centroids for this model (no "
            f"'{centroids_key}' buffer): not a DNC model of config {config}")
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as error:
        raise ValueError(f'checkpoint {checkpoint} does not fit the model of {config}:\n'
                         f'{error}') from None
    if missing or unexpected:
        raise ValueError(f'checkpoint {checkpoint} does not fit the model of {config}: '
                         f'missing keys {missing}, unexpected keys {unexpected}')
    if device is None:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    model.to(device).eval()
    return DNCModel(cfg=cfg, model=model, task=task, classifier=classifier,
                    classifier_name=classifier_name, config_path=config,
                    checkpoint_path=checkpoint, centroids_key=centroids_key,
                    dataset_meta=_dataset_meta(cfg, ckpt))

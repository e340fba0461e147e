"""Checks of a config that must fail before a Runner (and its work dir) exists."""
import os.path as osp
from typing import Iterator, Tuple

from mmengine.config import Config

DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def nested_dataset_cfgs(dataset: dict,
                        where: str = 'dataset') -> Iterator[Tuple[str, dict]]:
    """``(where, config)`` for ``dataset`` and every dataset config nested in wrappers
    like ConcatDataset or RepeatDataset."""
    if not isinstance(dataset, dict):
        return
    yield where, dataset
    if isinstance(dataset.get('dataset'), dict):
        yield from nested_dataset_cfgs(dataset['dataset'], f'{where}.dataset')
    for i, inner in enumerate(dataset.get('datasets', None) or []):
        yield from nested_dataset_cfgs(inner, f'{where}.datasets[{i}]')


def dataset_cfgs(cfg: Config,
                 dataloaders=DATALOADERS) -> Iterator[Tuple[str, str, dict]]:
    """``(dataloader name, where, dataset config)`` for every data set of the named
    dataloaders that the config has, through wrappers like ConcatDataset."""
    for name in dataloaders:
        loader = cfg.get(name)
        if loader:
            for where, dataset in nested_dataset_cfgs(loader.get('dataset'),
                                                      f'{name}.dataset'):
                yield name, where, dataset


def check_data_roots(cfg: Config, dataloaders=DATALOADERS):
    """Raises FileNotFoundError naming the first dataset whose folders do not exist."""
    for name, where, dataset in dataset_cfgs(cfg, dataloaders):
        root = dataset.get('data_root')
        if root is None:
            continue
        if not osp.isdir(root):
            raise FileNotFoundError(
                f'{where}.data_root {root!r} does not exist (from the current folder '
                f'{osp.abspath(".")}). Put the data set there, or point the config at it, '
                f'e.g. --cfg-options {name}.dataset.data_root=/path/to/data')
        for key, folder in (dataset.get('data_prefix') or {}).items():
            path = osp.join(root, folder)
            if folder and not osp.isdir(path):
                raise FileNotFoundError(
                    f'{where}.data_prefix.{key}: folder {path!r} does not exist')


def _heads(model: dict) -> Iterator[Tuple[str, dict]]:
    """The decode and auxiliary head configs of a segmentor config."""
    for key in ('decode_head', 'auxiliary_head'):
        heads = model.get(key)
        if isinstance(heads, dict):
            yield f'model.{key}', heads
        elif isinstance(heads, (list, tuple)):
            for i, head in enumerate(heads):
                yield f'model.{key}[{i}]', head


def check_hierarchy_fits_data(cfg: Config, dataloaders=DATALOADERS):
    """Raises a HierarchyError if a head's hierarchy does not have the data set's classes.

    Run on the config, before anything is built, so that a wrong hierarchy is reported with
    the two names involved rather than as a shape error in the first forward pass.
    """
    from mmengine.registry import DATASETS

    from hieraseg.hierarchy import build_hierarchy
    heads = [(where, head) for where, head in _heads(cfg.get('model') or {})
             if head.get('hierarchy') is not None]
    if not heads:
        return
    with DATASETS.switch_scope_and_registry(cfg.get('default_scope')) as registry:
        for _, where, dataset in dataset_cfgs(cfg, dataloaders):
            dataset_type = dataset.get('type')
            dataset_class = registry.get(dataset_type) if isinstance(dataset_type, str) \
                else dataset_type
            metainfo = dict(getattr(dataset_class, 'METAINFO', None) or {})
            metainfo.update(dataset.get('metainfo') or {})
            if 'classes' not in metainfo:
                continue
            for head_where, head in heads:
                build_hierarchy(head['hierarchy']).check_classes(
                    metainfo['classes'], f'{where} ({dataset_type}), used by {head_where}')

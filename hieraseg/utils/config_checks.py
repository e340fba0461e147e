"""Checks of a config that must fail before a Runner (and its work dir) exists."""
import os.path as osp
from typing import Iterator, Tuple

from mmengine.config import Config

DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _dataset_cfgs(dataset: dict, where: str) -> Iterator[Tuple[str, dict]]:
    """Every dataset config under ``dataset``, through wrappers like ConcatDataset."""
    if not isinstance(dataset, dict):
        return
    yield where, dataset
    if isinstance(dataset.get('dataset'), dict):
        yield from _dataset_cfgs(dataset['dataset'], f'{where}.dataset')
    for i, inner in enumerate(dataset.get('datasets', None) or []):
        yield from _dataset_cfgs(inner, f'{where}.datasets[{i}]')


def check_data_roots(cfg: Config, dataloaders=DATALOADERS):
    """Raises FileNotFoundError naming the first dataset whose folders do not exist."""
    for name in dataloaders:
        loader = cfg.get(name)
        if not loader:
            continue
        for where, dataset in _dataset_cfgs(loader.get('dataset'), f'{name}.dataset'):
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

"""Checks of a config that must fail before a Runner (and its work dir) exists."""
import difflib
import inspect
import os
import os.path as osp
from typing import Iterator, Optional, Tuple

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


def _default_suffix(cfg: Config, dataset: dict, key: str) -> Optional[str]:
    """``dataset[key]``, else the default of that argument of the data set's class."""
    if dataset.get(key) is not None:
        return dataset[key]
    from mmengine.registry import DATASETS
    kind = dataset.get('type')
    with DATASETS.switch_scope_and_registry(cfg.get('default_scope')) as registry:
        cls = registry.get(kind) if isinstance(kind, str) else kind
    for klass in inspect.getmro(cls) if inspect.isclass(cls) else ():
        parameter = inspect.signature(klass.__init__).parameters.get(key)
        if parameter is not None and isinstance(parameter.default, str):
            return parameter.default
    return None


def _holds_file(folder: str, suffix: Optional[str]) -> bool:
    """Whether ``folder`` or a sub-folder holds a file ending in ``suffix`` (any file
    where ``suffix`` is None); stops at the first one."""
    for _, _, files in os.walk(folder, followlinks=True):
        if any(suffix is None or f.endswith(suffix) for f in files):
            return True
    return False


def check_data_roots(cfg: Config, dataloaders=DATALOADERS, data_root: Optional[str] = None):
    """Raises FileNotFoundError naming the first dataset whose folders do not exist, or
    whose image folder holds no file with the data set's image suffix.

    ``data_root``: the tool's ``--data-root`` value, named in the error where it is the
    missing folder.
    """
    for name, where, dataset in dataset_cfgs(cfg, dataloaders):
        root = dataset.get('data_root')
        if root is None:
            continue
        if not osp.isdir(root):
            if data_root is not None and root == data_root:
                raise FileNotFoundError(
                    f'--data-root {root!r} does not exist (from the current folder '
                    f'{osp.abspath(".")})')
            raise FileNotFoundError(
                f'{where}.data_root {root!r} does not exist (from the current folder '
                f'{osp.abspath(".")}). Put the data set there, or give its folder with '
                f'--data-root /path/to/data (every data loader; or --cfg-options '
                f'{name}.dataset.data_root=... for this one)')
        for key, folder in (dataset.get('data_prefix') or {}).items():
            path = osp.join(root, folder)
            if folder and not osp.isdir(path):
                raise FileNotFoundError(
                    f'{where}.data_prefix.{key}: folder {path!r} does not exist')
        prefix = dataset.get('data_prefix') or {}
        img_dir = osp.join(root, prefix.get('img_path') or '')
        if dataset.get('ann_file') or not osp.isdir(img_dir):
            continue  # an annotation file lists the images
        suffix = _default_suffix(cfg, dataset, 'img_suffix')
        if not _holds_file(img_dir, suffix):
            raise FileNotFoundError(
                f'{where}: image folder {img_dir!r} (and its sub-folders) holds no file '
                f'ending in img_suffix={suffix!r}')


def segmentor_heads(model: dict) -> Iterator[Tuple[str, dict]]:
    """``(where, head config)`` of the decode and auxiliary heads of a segmentor config
    ``model`` (one or a list of each), ``where`` as ``'model.decode_head'`` or
    ``'model.auxiliary_head[i]'``."""
    for key in ('decode_head', 'auxiliary_head'):
        heads = model.get(key)
        if isinstance(heads, dict):
            yield f'model.{key}', heads
        elif isinstance(heads, (list, tuple)):
            for i, head in enumerate(heads):
                yield f'model.{key}[{i}]', head


def check_hierarchy_fits_data(cfg: Config, dataloaders=DATALOADERS):
    """Raises a HierarchyError if a head's hierarchy does not have the data set's classes,
    or differs from the hierarchy in the data set's metainfo (which the metric reads).

    Run on the config, before anything is built, so that a wrong hierarchy is reported with
    the two names involved rather than as a shape error in the first forward pass.
    """
    from mmengine.registry import DATASETS

    from hieraseg.hierarchy import HierarchyError, build_hierarchy
    heads = [(where, head) for where, head in segmentor_heads(cfg.get('model') or {})
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
            if metainfo.get('classes') is None and metainfo.get('hierarchy') is not None:
                # HieraSegDataset: the classes are the leaves of its hierarchy
                metainfo['classes'] = build_hierarchy(metainfo['hierarchy']).classes[0]
            if metainfo.get('classes') is None:
                continue
            data_hierarchy = metainfo.get('hierarchy')
            for head_where, head in heads:
                head_hierarchy = build_hierarchy(head['hierarchy'])
                head_hierarchy.check_classes(
                    metainfo['classes'], f'{where} ({dataset_type}), used by {head_where}')
                if data_hierarchy is None:
                    continue
                data_hierarchy = build_hierarchy(data_hierarchy)
                if (head_hierarchy.classes, head_hierarchy.parents) != \
                        (data_hierarchy.classes, data_hierarchy.parents):
                    raise HierarchyError(
                        f'{head_where} has the hierarchy {head_hierarchy.name!r} '
                        f'({head_hierarchy.level_sizes}) but {where} ({dataset_type}) has '
                        f'{data_hierarchy.name!r} ({data_hierarchy.level_sizes}), and the '
                        f'metric reads the data set\'s; give the same hierarchy to both')


def _close(word: str, choices) -> str:
    matches = difflib.get_close_matches(word, sorted(choices), n=3, cutoff=0.6)
    return f' (closest: {", ".join(matches)})' if matches else ''


def _runtime_keys() -> set:
    """Top-level config keys something reads when the run starts: the Runner's arguments
    and the settings mmengine's and hieraseg's tools read themselves."""
    from mmengine.runner import Runner
    from .schedule import ALLOW_KEY
    return set(inspect.signature(Runner.__init__).parameters) | {
        'runner_type', 'model_wrapper_cfg', 'find_unused_parameters', 'auto_scale_lr',
        'tta_model', 'tta_pipeline', 'custom_imports', 'work_dir', 'launcher', ALLOW_KEY,
        'trust_checkpoint'}


def _copies(node, value, where: str) -> Iterator[str]:
    """Keys under ``node`` whose value equals ``value``."""
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _copies(child, value, f'{where}.{key}' if where else key)
    elif isinstance(node, (list, tuple)):
        if where and _same(node, value):
            yield where
        for i, child in enumerate(node):
            yield from _copies(child, value, f'{where}.{i}')
    elif where and _same(node, value):
        yield where


def _same(a, b) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _is_plain_value(value) -> bool:
    """A string, or a list / tuple of at least two numbers (a size): values that another
    setting holds only as a copy, not by coincidence (as a 0 or a 1 could)."""
    if isinstance(value, (list, tuple)):
        return len(value) > 1 and all(isinstance(v, (int, float)) and
                                      not isinstance(v, bool) for v in value)
    return isinstance(value, str) and value != ''


def check_cfg_option_keys(cfg: Config, cfg_options: Optional[dict]):
    """Raises ValueError for a ``--cfg-options`` key that would be merged in and ignored:

    - its first part is neither a key of the config nor a Runner setting (``resume``,
      ``randomness``, ...), e.g. a misspelled ``train_cfgg.max_iters=10``;
    - it is a variable of the config (``data_root``, ``crop_size``) that the config's
      settings copied when the file was read: the error names those settings (and
      ``--data-root`` for ``data_root``).
    """
    runtime = _runtime_keys()
    known = set(cfg.keys()) | runtime
    for key in cfg_options or {}:
        top = key.split('.')[0]
        if top not in known:
            raise ValueError(f'--cfg-options {key}: the config has no key {top!r}'
                             f'{_close(top, known)}')
        if key != top or top in runtime or not _is_plain_value(cfg.get(top)):
            continue
        copies = [where for name in cfg.keys() if name in runtime
                  for where in _copies(cfg[name], cfg[top], name)]
        if not copies:
            continue
        shown = ', '.join(copies[:6]) + (f' and {len(copies) - 6} more'
                                         if len(copies) > 6 else '')
        hint = ('; for the data root of every data loader use --data-root DIR'
                if top == 'data_root' else '')
        raise ValueError(
            f'--cfg-options {key}: {top!r} is a variable of the config, and its value was '
            f'copied into {shown} when the config was read, so setting it now changes '
            f'nothing. Set those keys instead{hint}')


def _check_arguments(where: str, target, given: dict, ignored=()):
    """Raises TypeError if the class (its ``__init__``) or function ``target`` takes no
    argument named by some key of ``given``."""
    function = target.__init__ if inspect.isclass(target) else target
    parameters = inspect.signature(function).parameters
    if any(p.kind == p.VAR_KEYWORD for p in parameters.values()):
        return
    for key in given:
        if key not in ('type', '_scope_') and key not in parameters and key not in ignored:
            raise TypeError(f'{where}.{key}: {target.__qualname__} has no argument {key!r}'
                            f'{_close(key, [p for p in parameters if p != "self"])}')


def check_hook_and_loop_args(cfg: Config):
    """Checks the arguments of every hook (``default_hooks``, ``custom_hooks``) and loop
    (``train_cfg``, ``val_cfg``, ``test_cfg``) against their classes' signatures, so a
    misspelled one fails before training, not at the first checkpoint or validation.

    mmengine's CheckpointHook passes unknown arguments on to ``Runner.save_checkpoint``
    when it saves; those are checked against that method.

    Raises:
        TypeError: naming the config key, the class and the closest argument names.
    """
    from mmengine.hooks import CheckpointHook
    from mmengine.registry import HOOKS, LOOPS
    from mmengine.runner import Runner
    scope = cfg.get('default_scope')
    hooks = [(f'default_hooks.{name}', hook)
             for name, hook in (cfg.get('default_hooks') or {}).items()]
    hooks += [(f'custom_hooks[{i}]', hook) for i, hook in enumerate(cfg.get('custom_hooks')
                                                                    or [])]
    with HOOKS.switch_scope_and_registry(scope) as registry:
        for where, hook in hooks:
            cls = _registered(registry, hook)
            if cls is None:
                continue
            _check_arguments(where, cls, hook)
            if issubclass(cls, CheckpointHook):
                own = inspect.signature(CheckpointHook.__init__).parameters
                extra = {k: v for k, v in hook.items() if k not in own}
                _check_arguments(where, Runner.save_checkpoint, extra)
    loops = dict(train_cfg=None, val_cfg='ValLoop', test_cfg='TestLoop')
    with LOOPS.switch_scope_and_registry(scope) as registry:
        for key, default in loops.items():
            loop = cfg.get(key)
            if not isinstance(loop, dict):
                continue
            kind = loop.get('type') or default or (
                'EpochBasedTrainLoop' if loop.get('by_epoch', True) else
                'IterBasedTrainLoop')
            cls = _registered(registry, dict(type=kind))
            if cls is not None:
                _check_arguments(key, cls, {k: v for k, v in loop.items()
                                            if k != 'by_epoch' or 'type' in loop})


def _registered(registry, component):
    if not isinstance(component, dict):
        return None
    kind = component.get('type')
    cls = registry.get(kind) if isinstance(kind, str) else kind
    return cls if inspect.isclass(cls) or inspect.isfunction(cls) else None

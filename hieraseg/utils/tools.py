"""What tools/train.py and tools/test.py share: loading a config, the work dir, the Runner."""
import logging
import os
import os.path as osp
import shutil
from contextlib import contextmanager
from typing import Callable, List, Optional

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from .checkpoint import TRUST_ENV, TRUST_OPTION


def load_config(path: str, cfg_options: Optional[dict] = None,
                adjust: Optional[Callable[[Config], None]] = None) -> Config:
    """Loads ``path``, calls ``adjust(cfg)`` (the tools' own options, e.g. ``--data-root``),
    then merges ``--cfg-options``, whose values win. A missing file or ``_base_`` file
    (:func:`read_config`), a ``--cfg-options`` key the config does not have or that changes
    nothing (:func:`check_cfg_option_keys`), or an argument a hook, loop or hieraseg
    component does not take (:func:`check_hook_and_loop_args`,
    :func:`check_component_args`) is a clear error. Relative hierarchy paths are read from
    the config's folder, else the current folder (:func:`resolve_hierarchy_paths`)."""
    from .component_args import check_component_args
    from .config_checks import check_cfg_option_keys, check_hook_and_loop_args
    from .config_files import read_config, resolve_hierarchy_paths
    cfg = read_config(path)
    if cfg_options:
        check_cfg_option_keys(cfg, cfg_options)
    if adjust is not None:
        adjust(cfg)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
        resolve_hierarchy_paths(cfg, osp.dirname(osp.abspath(path)))
    check_hook_and_loop_args(cfg)
    check_component_args(cfg)
    return cfg


def add_trust_checkpoint_argument(parser) -> None:
    """``--trust-checkpoint``: read checkpoints that need more than safe types with pickle
    (:mod:`hieraseg.utils.checkpoint`)."""
    parser.add_argument(
        TRUST_OPTION, action='store_true',
        help='also load checkpoints that hold more than tensors, containers, numbers and '
        'NumPy arrays, with pickle enabled: their pickle can run code, so only for files '
        f'you trust (same as trust_checkpoint = True in the config or {TRUST_ENV}=1)')


def set_data_root(cfg: Config, data_root: str) -> List[str]:
    """``--data-root``: sets ``data_root`` of every data set of the train, val and test
    loaders (those inside wrappers such as ConcatDataset too) and the config's own
    ``data_root`` variable; returns a log line."""
    from .config_checks import dataset_cfgs
    changed = []
    for _, where, dataset in dataset_cfgs(cfg):
        if 'data_root' in dataset or not (dataset.get('dataset') or dataset.get('datasets')):
            dataset['data_root'] = data_root
            changed.append(where)
    if 'data_root' in cfg:
        cfg.data_root = data_root
    return [f'--data-root {data_root}: the data root of ' + ', '.join(changed)] if changed \
        else []


def set_work_dir(cfg: Config, work_dir: Optional[str], config_path: str):
    """``--work-dir``, else the config's ``work_dir``, else ``work_dirs/<config name>``."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(config_path))[0])


def build_runner(cfg: Config) -> Runner:
    """The default Runner, or the registered one named by ``cfg.runner_type``."""
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def use_resumable_checkpoint_hook(cfg: Config) -> None:
    """Puts :class:`~hieraseg.engine.ResumableCheckpointHook` (atomic ``last_checkpoint``,
    random states saved for a bit-exact resume) in place of mmengine's ``CheckpointHook`` in
    ``default_hooks.checkpoint``, keeping its arguments."""
    hook = (cfg.get('default_hooks') or {}).get('checkpoint')
    if not hook:
        return
    kind = hook.get('type')
    if kind in ('CheckpointHook', 'mmengine.CheckpointHook'):
        hook['type'] = 'ResumableCheckpointHook'
    elif kind != 'ResumableCheckpointHook':
        print_log(f'default_hooks.checkpoint is {kind!r}, not mmengine\'s CheckpointHook: '
                  'checkpoints do not carry random states, --resume is not bit-exact',
                  logger='current', level=logging.WARNING)


def _files_under(folder: str) -> set:
    return {osp.join(root, name) for root, _, names in os.walk(folder) for name in names}


@contextmanager
def outputs_removed_on_failure(*folders: Optional[str]):
    """Removes what the block wrote into ``folders`` (None entries are skipped) if it
    raises: a folder that did not exist before goes entirely, in one that did the new
    files go (files it overwrote cannot come back). So a failed run leaves no partial
    ``--out`` / ``--show-dir`` results that look like complete ones."""
    before = {folder: _files_under(folder) if osp.isdir(folder) else None
              for folder in folders if folder}
    try:
        yield
    except BaseException:
        for folder, files in before.items():
            if not osp.isdir(folder):
                continue
            if files is None:
                shutil.rmtree(folder, ignore_errors=True)
            else:
                for path in _files_under(folder) - files:
                    os.remove(path)
            print_log(f'the run failed: removed what it wrote to {folder}', logger='current',
                      level=logging.WARNING)
        raise

"""What tools/train.py and tools/test.py share: loading a config, the work dir, the Runner."""
import logging
import os.path as osp
from typing import Optional

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Loads ``path`` and merges ``--cfg-options``; a missing file or ``_base_`` file
    (:func:`read_config`), a ``--cfg-options`` key the config does not have
    (:func:`check_cfg_option_keys`) or a hook or loop argument that its class does not take
    (:func:`check_hook_and_loop_args`) is a clear error. Relative hierarchy paths are read
    from the config's folder, else the current folder (:func:`resolve_hierarchy_paths`)."""
    from .config_checks import check_cfg_option_keys, check_hook_and_loop_args
    from .config_files import read_config, resolve_hierarchy_paths
    cfg = read_config(path)
    if cfg_options:
        check_cfg_option_keys(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
        resolve_hierarchy_paths(cfg, osp.dirname(osp.abspath(path)))
    check_hook_and_loop_args(cfg)
    return cfg


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

"""What tools/train.py and tools/test.py share: loading a config, the work dir, the Runner."""
import logging
import os.path as osp
from typing import Optional

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from .checkpoint import TRUST_ENV, TRUST_OPTION


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Loads ``path`` and merges ``--cfg-options``; a missing file, a ``--cfg-options`` key
    the config does not have (:func:`check_cfg_option_keys`) or a hook or loop argument
    that its class does not take (:func:`check_hook_and_loop_args`) is a clear error."""
    from .config_checks import check_cfg_option_keys, check_hook_and_loop_args
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file {path!r} does not exist (from the current folder '
                                f'{osp.abspath(".")})')
    cfg = Config.fromfile(path)
    if cfg_options:
        check_cfg_option_keys(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    check_hook_and_loop_args(cfg)
    return cfg


def add_trust_checkpoint_argument(parser) -> None:
    """``--trust-checkpoint``: read checkpoints that need more than safe types with pickle
    (:mod:`hieraseg.utils.checkpoint`)."""
    parser.add_argument(
        TRUST_OPTION, action='store_true',
        help='also load checkpoints that hold more than tensors, containers, numbers and '
        'NumPy arrays, with pickle enabled: their pickle can run code, so only for files '
        f'you trust (same as trust_checkpoint = True in the config or {TRUST_ENV}=1)')


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

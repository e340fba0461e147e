"""Train a model from a config: the arguments of mmsegmentation's tools/train.py, and

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CHECKPOINT]] [--amp]
        [--data-root DIR] [--max-iters N] [--pretrained-dir DIR] [--trust-checkpoint]
        [--cfg-options KEY=VALUE ...] [--launcher {none,pytorch,slurm,mpi}]

Checkpoints (``load_from``, ``--resume``) are read without running code from them; a file
that needs more is refused unless ``--trust-checkpoint`` (:mod:`hieraseg.utils.checkpoint`).
docs/train_and_test.md describes the options.
"""
import argparse
import logging
import os

import hieraseg  # noqa: F401  (first: it silences pkg_resources' warning before mmengine)
from mmengine.config import DictAction
from mmengine.logging import print_log

from hieraseg.utils import (check_data_roots, check_hierarchy_fits_data, finish_distributed,
                            prepare_runtime)
from hieraseg.utils.atomic_files import remove_stale_partials
from hieraseg.utils.checkpoint import load_checkpoint_file
from hieraseg.utils.loader_checks import (check_batch_norm_batch, launcher_world_size,
                                          turn_off_persistent_workers)
from hieraseg.utils.pretrained import PRETRAINED_DIR_ENV, check_pretrained_weights
from hieraseg.utils.resume import checkpoint_seed, find_resumable_checkpoint
from hieraseg.utils.schedule import check_schedule_fits, scale_schedule
from hieraseg.utils.tools import (add_trust_checkpoint_argument, build_runner, load_config,
                                  set_data_root, set_work_dir, use_resumable_checkpoint_hook)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a hieraseg / OpenMMLab model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and checkpoints')
    parser.add_argument(
        '--resume', nargs='?', const='auto', default=None, metavar='CHECKPOINT',
        help='resume from CHECKPOINT, or, without a value, from the newest checkpoint of '
        'the work dir that loads completely (an error if checkpoints exist but none loads)')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (needs CUDA; ignored without it)')
    add_trust_checkpoint_argument(parser)
    # hieraseg's own options (docs/train_and_test.md)
    parser.add_argument(
        '--data-root', metavar='DIR',
        help='the data set folder, for every data loader (train, val, test)')
    parser.add_argument(
        '--max-iters', type=int, metavar='N',
        help='train N iterations; the schedule (every iteration-based scheduler, warm-ups '
        'included), the validation and checkpoint intervals scale with it')
    parser.add_argument(
        '--pretrained-dir', metavar='DIR',
        help='a folder of pre-trained weights (tools/fetch_pretrained.py writes it), used '
        f'before the torch hub cache and the internet; default ${PRETRAINED_DIR_ENV}')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, as key=value pairs (e.g. '
        'train_dataloader.batch_size=4 model.decode_head.num_classes=7)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or --local_rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def enable_amp(cfg):
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper == 'AmpOptimWrapper':
        print_log('AMP is already enabled in the config', logger='current',
                  level=logging.WARNING)
        return
    if wrapper != 'OptimWrapper':
        raise ValueError(f'--amp needs optim_wrapper.type OptimWrapper, the config has {wrapper}')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'


def choose_checkpoint(cfg, resume):
    """Sets ``cfg.resume`` / ``cfg.load_from`` from ``--resume``; returns lines to log.

    A resumed run is built with the seed of the run it continues (``randomness.seed``), so
    what is built before the checkpoint is loaded (the data sampler's order, the data
    workers' seeds) is what that run built; mmengine alone would re-seed only afterwards.
    """
    if resume is None:
        if cfg.get('load_from') and os.path.isfile(cfg.load_from):
            load_checkpoint_file(cfg.load_from, map_location='cpu', mmap=True)  # refused now
        return []
    if resume != 'auto':
        if not os.path.isfile(resume):
            raise FileNotFoundError(f'--resume: checkpoint {resume!r} does not exist')
        chosen, lines = resume, [f'--resume: resuming from {resume}']
    else:
        chosen, skipped = find_resumable_checkpoint(cfg.work_dir)
        lines = [f'--resume: skipped {line}' for line in skipped]
        if chosen is None:
            cfg.resume = False
            return lines + [f'--resume: no checkpoint in {cfg.work_dir}; starting from '
                            'iteration 0']
        lines.append(f'--resume: resuming from {chosen}, the newest checkpoint of the work '
                     'dir that loads completely')
    cfg.resume, cfg.load_from = True, chosen
    seed = checkpoint_seed(chosen)
    if seed is not None:
        cfg.setdefault('randomness', {})['seed'] = seed
    return lines


def run_options(args, messages: list):
    """The config changes of ``--data-root`` and ``--max-iters``, made before
    ``--cfg-options`` (whose values win); appends their log lines to ``messages``."""
    options = args.cfg_options or {}
    if args.max_iters is not None and 'train_cfg.max_iters' in options:
        raise ValueError('give the number of iterations once: --max-iters N (which scales '
                         'the schedule with it), not --cfg-options train_cfg.max_iters too')

    def adjust(cfg):
        if args.data_root is not None:
            messages.extend(set_data_root(cfg, args.data_root))
        if args.max_iters is not None:
            messages.extend(scale_schedule(cfg, args.max_iters, keep=options))
    return adjust


def main():
    args = parse_args()
    messages = []
    cfg = load_config(args.config, args.cfg_options, run_options(args, messages))
    cfg.launcher = args.launcher
    set_work_dir(cfg, args.work_dir, args.config)
    check_schedule_fits(cfg)
    if prepare_runtime(cfg, args.launcher, amp=args.amp,
                       trust_checkpoint=args.trust_checkpoint):
        enable_amp(cfg)
    use_resumable_checkpoint_hook(cfg)
    if (cfg.get('model') or {}).get('decode_head'):  # a segmentor: check every batch's labels
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(type='LabelRangeCheckHook')]
    check_hierarchy_fits_data(cfg, ('train_dataloader', 'val_dataloader'))
    check_batch_norm_batch(cfg, launcher_world_size(args.launcher))
    messages += turn_off_persistent_workers(cfg)
    messages += check_pretrained_weights(cfg, args.pretrained_dir)
    check_data_roots(cfg, ('train_dataloader', 'val_dataloader'), args.data_root)
    messages += [f'removed {path}, left by a killed checkpoint write'
                 for path in remove_stale_partials(cfg.work_dir)]
    messages += choose_checkpoint(cfg, args.resume)
    runner = build_runner(cfg)
    for message in messages:
        runner.logger.info(message)
    runner.train()
    del runner  # its DDP model must be gone before the process group
    finish_distributed()


if __name__ == '__main__':
    main()

"""Evaluate a checkpoint: the arguments of mmsegmentation's tools/test.py, and

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR] [--show]
        [--show-dir DIR] [--show-max-width PIXELS] [--tta] [--data-root DIR]
        [--trust-checkpoint] [--cfg-options KEY=VALUE ...] [--launcher ...]

For a hierarchical config the metric prints mIoU per hierarchy level. The checkpoint is
loaded strictly: one that does not fit the model is an error, not a warning. It is read
without running code from it; a file that needs more is refused unless --trust-checkpoint
(:mod:`hieraseg.utils.checkpoint`). Only the test data is read (never the training data). A
run that fails removes what it wrote to --out and --show-dir. docs/train_and_test.md
describes the options.
"""
import argparse
import os
import os.path as osp

import hieraseg  # noqa: F401  (first: it silences pkg_resources' warning before mmengine)
from mmengine.config import DictAction

from hieraseg.utils import (check_data_roots, check_hierarchy_fits_data, finish_distributed,
                            prepare_runtime)
from hieraseg.utils.checkpoint import load_checkpoint_file
from hieraseg.utils.loader_checks import turn_off_persistent_workers
from hieraseg.utils.tools import (add_trust_checkpoint_argument, build_runner, load_config,
                                  outputs_removed_on_failure, set_data_root, set_work_dir)


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and evaluate) a checkpoint')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and the metrics (json)')
    parser.add_argument(
        '--out', help='the dir to save the predictions in: <image name>.png with the leaf '
        'label ids and, for a hierarchy, <level name>/<image name>.png per level (add '
        '--cfg-options test_evaluator.format_only=True to write without ground truth)')
    parser.add_argument('--show', action='store_true', help='show the predictions')
    parser.add_argument('--show-dir', help='the dir to save a painted prediction of every '
                        'image in, as <dir>/<image name>.png')
    parser.add_argument('--wait-time', type=float, default=2, help='seconds per shown image')
    # hieraseg's own options (docs/train_and_test.md)
    parser.add_argument(
        '--data-root', metavar='DIR',
        help='the data set folder, for every data loader (only the test one is read)')
    parser.add_argument(
        '--show-max-width', type=int, default=2048, metavar='PIXELS',
        help='the widest picture --show-dir writes (default 2048; 0: full size)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, as key=value pairs')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--tta', action='store_true', help='test-time augmentation')
    add_trust_checkpoint_argument(parser)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def enable_visualization(cfg, args):
    """Draws every test image with hieraseg's visualization hook, which never builds the
    training loop (mmseg's reads ``runner.iter``, which builds it and the training data)."""
    hooks = cfg.setdefault('default_hooks', {})
    previous = hooks.get('visualization') or {}
    hooks['visualization'] = dict(
        type='HieraSegVisualizationHook', draw=True, interval=1, show=args.show,
        wait_time=args.wait_time, out_dir=args.show_dir, max_width=args.show_max_width,
        backend_args=previous.get('backend_args'))


def main():
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} does not exist')
    if args.show_max_width < 0:
        raise ValueError(f'--show-max-width must be >= 0 (0: full size), got '
                         f'{args.show_max_width}')
    messages = []

    def adjust(cfg):
        if args.data_root is not None:
            messages.extend(set_data_root(cfg, args.data_root))

    cfg = load_config(args.config, args.cfg_options, adjust)
    cfg.launcher = args.launcher
    set_work_dir(cfg, args.work_dir, args.config)
    prepare_runtime(cfg, args.launcher, trust_checkpoint=args.trust_checkpoint)
    load_checkpoint_file(args.checkpoint, map_location='cpu', mmap=True)  # refused now
    cfg.load_from = None  # loaded strictly below
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.tta:
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise ValueError('--tta needs tta_model and tta_pipeline in the config')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
    messages += turn_off_persistent_workers(cfg)
    check_hierarchy_fits_data(cfg, ('test_dataloader', ))
    check_data_roots(cfg, ('test_dataloader', ), args.data_root)
    with outputs_removed_on_failure(args.out, args.show_dir):
        runner = build_runner(cfg)
        for message in messages:
            runner.logger.info(message)
        try:
            runner.load_checkpoint(args.checkpoint, map_location='cpu', strict=True)
        except RuntimeError as error:
            raise RuntimeError(f'checkpoint {args.checkpoint} does not fit the model of '
                               f'{args.config}:\n{error}') from None
        if args.show or args.show_dir:
            # mmengine gives the visualizer the data set's metainfo only in training loops.
            runner.visualizer.dataset_meta = runner.test_loop.dataloader.dataset.metainfo
        runner.test()
    del runner  # its DDP model must be gone before the process group
    finish_distributed()


if __name__ == '__main__':
    main()

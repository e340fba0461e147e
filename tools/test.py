"""Evaluate a checkpoint: the arguments of mmsegmentation's tools/test.py.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR] [--show]
        [--show-dir DIR] [--tta] [--trust-checkpoint] [--cfg-options KEY=VALUE ...]
        [--launcher ...]

For a hierarchical config the metric prints mIoU per hierarchy level. The checkpoint is
loaded strictly: one that does not fit the model is an error, not a warning. It is read
without running code from it; a file that needs more is refused unless --trust-checkpoint
(:mod:`hieraseg.utils.checkpoint`).
"""
import argparse
import os
import os.path as osp

from mmengine.config import DictAction

from hieraseg.utils import (check_data_roots, check_hierarchy_fits_data, finish_distributed,
                            prepare_runtime)
from hieraseg.utils.checkpoint import load_checkpoint_file
from hieraseg.utils.tools import (add_trust_checkpoint_argument, build_runner, load_config,
                                  set_work_dir)


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
                        'image in (under <dir>/vis_data/vis_image)')
    parser.add_argument('--wait-time', type=float, default=2, help='seconds per shown image')
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
    hooks = cfg.get('default_hooks', {})
    if 'visualization' not in hooks:
        raise ValueError('--show / --show-dir need default_hooks.visualization in the config')
    hook = hooks['visualization']
    hook['draw'] = True  # mmseg's SegVisualizationHook
    hook['interval'] = 1  # every image, not every 50th
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        cfg.visualizer['save_dir'] = args.show_dir


def main():
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} does not exist')
    cfg = load_config(args.config, args.cfg_options)
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
        cfg.test_evaluator['keep_results'] = True
    check_hierarchy_fits_data(cfg, ('test_dataloader', ))
    check_data_roots(cfg, ('test_dataloader', ))
    runner = build_runner(cfg)
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

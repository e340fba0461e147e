"""Write a self-contained config for YOUR data set and class hierarchy, for any method.

    python tools/new_config.py --method {flat,hssn,dnc,hiera-dnc} [--model fcn|deeplabv3plus]
        --data-root DIR --hierarchy FILE [FILE ...] [--max-iters N] [--crop H W]
        [--scale W H] [--batch-size N] [--workers N] [--train-images P] [--train-labels P]
        [--val-images P] [--val-labels P] [--img-suffix S] [--seg-map-suffix S]
        [--class-weight none|balanced] --out my_config.py [--force]

The config is the method's template in configs/custom/ with your values in place of those
marked EDIT in configs/custom/custom_data.py (every derived value follows them: the
schedule ends at --max-iters, the warm-up is 10 % of it, four checkpoints per run), written
fully merged: no _base_ and absolute paths, so it works from any folder and wherever it is
moved. The data root and hierarchy paths are relative to the current folder. Everything is
checked first (folders, a label file beside the images, the hierarchy); nothing is written
on an error. --class-weight balanced (hssn, hiera-dnc) counts the training pixels and
weighs the hierarchical losses by leaf (square root of the median frequency), for rare
leaves. docs/own_data.md walks through it.
"""
import argparse
import os.path as osp
import shlex
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None):
    from hieraseg.utils.own_data_config import CLASS_WEIGHTS, METHODS, MODELS
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--method', required=True, choices=METHODS)
    parser.add_argument('--model', default='fcn', choices=sorted(MODELS),
                        help='fcn: the small ResNet-18 FCN (CPU, small images; default); '
                        'deeplabv3plus: DeepLabV3+ R101-D8 (bigger images, GPUs)')
    parser.add_argument('--data-root', required=True, help='the data set folder')
    parser.add_argument('--hierarchy', required=True, nargs='+', metavar='FILE',
                        help='a .yaml / .json hierarchy file, or one child,parent .csv per '
                        'coarser level, finest first')
    parser.add_argument('--max-iters', type=int, help='training iterations (default 2000)')
    parser.add_argument('--crop', type=int, nargs=2, metavar=('H', 'W'),
                        help='training crop (default: the image size, at most 512 a side)')
    parser.add_argument('--scale', type=int, nargs=2, metavar=('W', 'H'),
                        help='size images are resized to, keeping their aspect ratio (default: '
                        'the first training image\'s)')
    parser.add_argument('--batch-size', type=int, help='images per GPU (default 8)')
    parser.add_argument('--workers', type=int, help='data loading processes per GPU (default 2)')
    parser.add_argument('--train-images', default='images/train', help='relative to the root')
    parser.add_argument('--train-labels', default='labels/train')
    parser.add_argument('--val-images', default='images/val')
    parser.add_argument('--val-labels', default='labels/val')
    parser.add_argument('--img-suffix', help='image file ending (default: the most common '
                        'image ending in the training image folder)')
    parser.add_argument('--seg-map-suffix', default='.png', help='label file ending')
    parser.add_argument('--class-weight', choices=CLASS_WEIGHTS, default='none',
                        help='balanced: weigh the hierarchical losses\' pixels by their leaf, '
                        'the square root of the median frequency of the training pixels '
                        '(hssn, hiera-dnc; for rare leaves, docs/own_data.md section 7); '
                        'none: every pixel counts 1 (default)')
    parser.add_argument('--out', required=True, help='the config file to write')
    parser.add_argument('--force', action='store_true', help='overwrite --out')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from hieraseg.utils.own_data_config import own_data_values, write_own_data_config
    values = own_data_values(
        args.data_root, args.hierarchy, max_iters=args.max_iters, crop=args.crop,
        scale=args.scale, batch_size=args.batch_size, workers=args.workers,
        train_images=args.train_images, train_labels=args.train_labels,
        val_images=args.val_images, val_labels=args.val_labels, img_suffix=args.img_suffix,
        seg_map_suffix=args.seg_map_suffix)
    command = 'python tools/new_config.py ' + ' '.join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    cfg = write_own_data_config(args.out, args.method, args.model, values, command,
                                args.force, class_weight=args.class_weight)
    print(f'wrote {args.out}: {args.method} ({args.model}), {cfg.train_cfg.max_iters} '
          f'iterations, checkpoints every {cfg.default_hooks.checkpoint.interval}; train with\n'
          f'  python tools/train.py {args.out}')


if __name__ == '__main__':
    main()

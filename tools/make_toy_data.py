"""Write the toy hierarchical segmentation data set (Cityscapes layout), or with --deep its
three-level variant in the own-data layout (images/, labels/, hierarchy.yaml).

    python tools/make_toy_data.py [ROOT] [--num-train N] [--num-val N] [--size PX] [--seed S]
        [--num-val-shifted N]
    python tools/make_toy_data.py data/toy_shapes_deep --deep [--size 96]
"""
import argparse

from hieraseg.datasets import generate_toy_shapes, generate_toy_shapes_deep


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('root', nargs='?', default=None,
                        help='output folder (default data/toy_shapes, or data/toy_shapes_deep '
                        'with --deep)')
    parser.add_argument('--deep', action='store_true',
                        help='the 8 -> 4 -> 3 variant as own data: images/<split>/*.jpg, '
                        'labels/<split>/*.png and hierarchy.yaml')
    parser.add_argument('--num-train', type=int, default=300)
    parser.add_argument('--num-val', type=int, default=60)
    parser.add_argument('--size', type=int, default=None,
                        help='image side in pixels (default 64, with --deep 96)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-val-shifted', type=int, default=0,
                        help='images of the val_shifted split (domain shift), 0 for none')
    args = parser.parse_args()
    if args.deep:
        if args.num_val_shifted:
            parser.error('--num-val-shifted is for the toy set, not --deep')
        root = args.root or 'data/toy_shapes_deep'
        manifest = generate_toy_shapes_deep(root, args.num_train, args.num_val,
                                            args.size or 96, args.seed)
    else:
        root = args.root or 'data/toy_shapes'
        manifest = generate_toy_shapes(root, args.num_train, args.num_val, args.size or 64,
                                       args.seed, args.num_val_shifted)
    print(f'toy data set in {root}: {manifest["num_train"]} train and '
          f'{manifest["num_val"]} val images of {manifest["size"]}x{manifest["size"]}'
          + (f', {args.num_val_shifted} shifted val images' if args.num_val_shifted else '')
          + (f'; hierarchy in {root}/hierarchy.yaml' if args.deep else ''))


if __name__ == '__main__':
    main()

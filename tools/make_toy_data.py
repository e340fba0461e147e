"""Write the toy hierarchical segmentation data set (Cityscapes layout).

    python tools/make_toy_data.py [ROOT] [--num-train N] [--num-val N] [--size PX] [--seed S]
        [--num-val-shifted N]
"""
import argparse

from hieraseg.datasets.toy_shapes import generate_toy_shapes


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('root', nargs='?', default='data/toy_shapes', help='output folder')
    parser.add_argument('--num-train', type=int, default=300)
    parser.add_argument('--num-val', type=int, default=60)
    parser.add_argument('--size', type=int, default=64, help='image side in pixels')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-val-shifted', type=int, default=0,
                        help='images of the val_shifted split (domain shift), 0 for none')
    args = parser.parse_args()
    manifest = generate_toy_shapes(args.root, args.num_train, args.num_val, args.size, args.seed,
                                   args.num_val_shifted)
    print(f'toy data set in {args.root}: {manifest["num_train"]} train and '
          f'{manifest["num_val"]} val images of {manifest["size"]}x{manifest["size"]}'
          + (f', {args.num_val_shifted} shifted val images' if args.num_val_shifted else ''))


if __name__ == '__main__':
    main()

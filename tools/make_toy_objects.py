"""Write the toy classification data set with object masks (for CAST).

    python tools/make_toy_objects.py [ROOT] [--num-train N] [--num-val N] [--size PX] [--seed S]
        [--shape-only]
"""
import argparse

from hieraseg.datasets.toy_objects import generate_toy_objects


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('root', nargs='?', default='data/toy_objects', help='output folder')
    parser.add_argument('--num-train', type=int, default=400)
    parser.add_argument('--num-val', type=int, default=100)
    parser.add_argument('--size', type=int, default=64, help='image side in pixels')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--shape-only', action='store_true',
                        help='object hues independent of the class (the class is the shape)')
    args = parser.parse_args()
    manifest = generate_toy_objects(args.root, args.num_train, args.num_val, args.size, args.seed,
                                    class_hues=not args.shape_only)
    print(f'toy objects data set in {args.root}: {manifest["num_train"]} train and '
          f'{manifest["num_val"]} val images of {manifest["size"]}x{manifest["size"]}, '
          f'classes {", ".join(manifest["classes"])}')


if __name__ == '__main__':
    main()

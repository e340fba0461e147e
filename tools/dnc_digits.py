"""DNC against a linear head on scikit-learn's handwritten digits, as a markdown table.

    python tools/dnc_digits.py [--heads linear dnc dnc_no_feat_norm dnc_before_issue10]
        [--seeds 0 1 2] [--iters 400] [--size 8] [--data-root DIR] [--work-dir DIR]

Trains every head once per seed (CIFAR-style ResNet-18 at width 16, see
``hieraseg/utils/dnc_digits.py``) and prints top-1 per seed, the mean, the lowest
per-class recall and, for DNC, the smallest sub-centroid component (>= 0: every
sub-centroid in the non-negative orthant). Run with ``OMP_NUM_THREADS=1`` for the README's
figures (the thread count changes results slightly).
"""
import argparse
import os.path as osp
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from hieraseg.utils.dnc_digits import HEADS, run_digits, write_digits  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--heads', nargs='+', default=list(HEADS), choices=list(HEADS))
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--iters', type=int, default=400)
    parser.add_argument('--size', type=int, default=8, help='image side (8: as shipped)')
    parser.add_argument('--data-root', default=None)
    parser.add_argument('--work-dir', default=None)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix='dnc_digits_')
    root = write_digits(args.data_root or osp.join(tmp, 'digits'), args.size)
    work = args.work_dir or osp.join(tmp, 'work')
    lines = ['| head | top-1 per seed | mean | lowest class recall per seed | '
             'min sub-centroid component |', '|---|---|---|---|---|']
    for head in args.heads:
        results = []
        for seed in args.seeds:
            start = time.time()
            res = run_digits(root, osp.join(work, f'{head}_seed{seed}'), head, seed,
                             args.iters)
            print(f'{head} seed {seed}: top-1 {res["top1"]:.2f}, lowest recall '
                  f'{min(res["recall"]):.1f}, {time.time() - start:.0f} s', flush=True)
            results.append(res)
        top1 = [r['top1'] for r in results]
        per_seed = ' / '.join(f'{t:.2f}' for t in top1)
        lowest = ' / '.join(f'{min(r["recall"]):.1f}' for r in results)
        cmin = [r['centroid_min'] for r in results]
        cmin_text = ' / '.join(f'{c:.3f}' for c in cmin) if cmin[0] is not None else '-'
        lines.append(f'| `{head}` | {per_seed} | {sum(top1) / len(top1):.2f} | {lowest} | '
                     f'{cmin_text} |')
    print('\n'.join(lines))


if __name__ == '__main__':
    main()

"""Mean +- std over runs of experiments/cast_toy_eval.py's JSON files, as a markdown table.

    python experiments/cast_toy_summary.py RUN.json [RUN.json ...]
"""
import argparse
import json

import numpy as np


def mean_std(values) -> str:
    values = np.asarray(values, dtype=float)
    return f'{values.mean():.1f} ± {values.std(ddof=1) if len(values) > 1 else 0.0:.1f}'


def summarize(runs) -> str:
    cast_levels = [run['cast']['levels'] for run in runs]
    vit_by_k = [{level['clusters']: level['miou'] for level in run['vit_kmeans']['levels']}
                for run in runs]
    lines = [f'{len(runs)} runs (mean ± std)',
             f'accuracy: CAST {mean_std([r["cast"]["accuracy"] for r in runs])}  '
             f'ViT {mean_std([r["vit_kmeans"]["accuracy"] for r in runs])}',
             '| level | segments | CAST mIoU | ViT + k-means mIoU |', '|---|---|---|---|']
    for index, level in enumerate(cast_levels[0]):
        k = level['clusters']
        name = 'superpixels' if k is None else f'{index} ({k} clusters)'
        cast = mean_std([levels[index]['miou'] for levels in cast_levels])
        count = mean_std([levels[index]['segments'] for levels in cast_levels])
        vit = '-' if k is None else mean_std([by_k[k] for by_k in vit_by_k])
        lines.append(f'| {name} | {count} | {cast} | {vit} |')
    lines.append('superpixel ceiling (best exact grouping of the superpixels): '
                 + mean_std([r['cast']['superpixel_ceiling'] for r in runs]))
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('runs', nargs='+')
    args = parser.parse_args()
    runs = []
    for path in args.runs:
        with open(path) as f:
            runs.append(json.load(f))
    print(summarize(runs))


if __name__ == '__main__':
    main()

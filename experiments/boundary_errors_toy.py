"""Where the toy models' errors lie: leaf-level error rate by distance to the nearest
ground-truth boundary, for runs of experiments/run_toy_ablation.py.

    python experiments/boundary_errors_toy.py RUN [RUN ...] [--work-dir work_dirs/toy_ablation]
        [--data-root data/toy_shapes_ablation]

RUN is a run folder name such as ``recipe_seed0``. Each run's checkpoint is evaluated with
its own config on the in-domain validation split; a pixel's distance is the number of 3x3
dilations of the label map's boundary (pixels whose 3x3 neighbourhood holds two labels)
that reach it (0: on the boundary, ``>=5``: interior). Prints, per run, the overall leaf
error and the error rate (and count) at each distance.
"""
import argparse
import glob
import os.path as osp
import sys

import torch
import torch.nn.functional as F

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
MAX_DISTANCE = 5


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('runs', nargs='+')
    parser.add_argument('--work-dir', default='work_dirs/toy_ablation')
    parser.add_argument('--data-root', default='data/toy_shapes_ablation')
    parser.add_argument('--threads', type=int, default=1)
    return parser.parse_args()


def boundary_distance(labels: torch.Tensor) -> torch.Tensor:
    """``[H, W]`` distance (in 3x3 dilations, capped at MAX_DISTANCE) to a label change."""
    g = labels.float()[None, None]
    edge = F.max_pool2d(g, 3, 1, 1) != -F.max_pool2d(-g, 3, 1, 1)
    distance = torch.full(labels.shape, MAX_DISTANCE, dtype=torch.long)
    reach = edge.float()
    for d in range(MAX_DISTANCE):
        distance[(reach[0, 0] > 0) & (distance == MAX_DISTANCE)] = d
        reach = F.max_pool2d(reach, 3, 1, 1)
    return distance


def evaluate(run: str, args):
    from mmengine.config import Config
    from mmengine.runner import Runner

    from hieraseg.utils import prepare_runtime
    folder = osp.join(args.work_dir, run)
    cfg = Config.fromfile(sorted(glob.glob(osp.join(folder, '*.py')))[0])
    cfg.work_dir = osp.join(folder, 'boundary_errors')
    cfg.load_from = osp.join(folder, 'iter_2000.pth')
    cfg.test_dataloader.dataset.data_root = args.data_root
    prepare_runtime(cfg, 'none')
    runner = Runner.from_cfg(cfg)
    runner.load_or_resume()
    model = runner.model.eval()
    errors = torch.zeros(MAX_DISTANCE + 1, dtype=torch.long)
    counts = torch.zeros(MAX_DISTANCE + 1, dtype=torch.long)
    with torch.no_grad():
        for data in runner.test_dataloader:
            for sample in model.test_step(data):
                gt = sample.gt_sem_seg.data[0]
                wrong = (sample.pred_sem_seg.data[0] != gt).long().flatten()
                distance = boundary_distance(gt).flatten()
                errors += torch.bincount(distance, wrong, MAX_DISTANCE + 1).long()
                counts += torch.bincount(distance, minlength=MAX_DISTANCE + 1)
    rates = ' '.join(
        f"{'>=' if d == MAX_DISTANCE else ''}{d}: {100 * e / max(c, 1):.1f}% ({e})"
        for d, (e, c) in enumerate(zip(errors.tolist(), counts.tolist())))
    print(f'{run}: leaf error {100 * errors.sum() / counts.sum():.2f}%; by distance {rates}',
          flush=True)


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    for run in args.runs:
        evaluate(run, args)


if __name__ == '__main__':
    main()

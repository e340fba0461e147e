"""HSSN's loss ablation on the toy data set, over several seeds, as a markdown table.

    python tools/hssn_ablation.py [--rows cce bce ...] [--seeds 0 1 2] [--iters 2000]
        [--jobs 2] [--threads 1] [--data-root DIR] [--work-dir DIR] [--force]

Trains every row (a training objective; ``--list`` shows them) once per seed on the same
generated data, in ``--jobs`` processes of ``--threads`` torch threads each (the thread
count changes results slightly: compare runs made with the same one), then evaluates each
model with each of its inference variants on the in-domain validation split and on the
shifted one (other texture periods, hue jitter, more noise). Prints progress, then a
table of mean ± std per level, one line per row and inference, and the per-seed values;
the table is also written to ``<work-dir>/ablation.md``. Finished runs are kept
(``<work-dir>/results/<row>_seed<S>.json``) and not trained again unless ``--force``.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from hieraseg.utils.hssn_ablation import DEFAULT_ROWS, ROWS, SPLITS  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--rows', nargs='+', default=list(DEFAULT_ROWS),
                        help='rows to train (default: the paper\'s rows and the recipe)')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--iters', type=int, default=2000)
    parser.add_argument('--jobs', type=int, default=2, help='trainings run at once')
    parser.add_argument('--threads', type=int, default=1, help='torch threads per training')
    parser.add_argument('--data-root', default='data/toy_shapes_ablation')
    parser.add_argument('--work-dir', default='work_dirs/hssn_ablation')
    parser.add_argument('--force', action='store_true', help='retrain finished runs')
    parser.add_argument('--list', action='store_true', help='list the rows and exit')
    parser.add_argument('--worker', nargs=2, metavar=('ROW', 'SEED'), help=argparse.SUPPRESS)
    args = parser.parse_args()
    unknown = [r for r in ([args.worker[0]] if args.worker else args.rows) if r not in ROWS]
    if unknown:
        parser.error(f'unknown rows {unknown}; choose from {sorted(ROWS)}')
    if min(args.jobs, args.threads, args.iters) < 1:
        parser.error('--jobs, --threads and --iters must be >= 1')
    return args


def result_path(work_dir, row, seed):
    return osp.join(work_dir, 'results', f'{row}_seed{seed}.json')


def run_worker(args, row: str, seed: int):
    """Trains one row with one seed and evaluates it; writes the result file."""
    import torch
    from mmengine.config import Config
    from mmengine.runner import Runner, TestLoop

    from hieraseg.utils import prepare_runtime
    from hieraseg.utils.hssn_ablation import FLAT_DECODER, apply_row, decoders

    torch.set_num_threads(args.threads)
    work_dir = osp.join(args.work_dir, f'{row}_seed{seed}')
    cfg = apply_row(Config.fromfile(osp.join(REPO, ROWS[row]['config'])), row,
                    args.data_root, args.iters, seed, work_dir)
    prepare_runtime(cfg, 'none')
    runner = Runner.from_cfg(cfg)
    start = time.time()
    runner.train()
    train_seconds = time.time() - start
    head = runner.model.decode_head
    metrics = {}
    for split in SPLITS:
        loader = copy_loader(cfg.test_dataloader, split)
        metrics[split] = {}
        for decoder in decoders(row):
            if decoder != FLAT_DECODER:
                head.path_score = decoder
            result = TestLoop(runner, loader, cfg.test_evaluator).run()
            metrics[split][decoder] = {
                key[len('mIoU_'):]: float(value)
                for key, value in result.items() if key.startswith('mIoU_')}
    write_json(result_path(args.work_dir, row, seed), dict(
        row=row, seed=seed, iters=args.iters, threads=args.threads,
        train_seconds=round(train_seconds, 1), metrics=metrics))


def copy_loader(loader_cfg, split: str):
    loader = loader_cfg.copy()
    loader['dataset'] = loader_cfg['dataset'].copy()
    loader['dataset']['data_prefix'] = dict(img_path=f'leftImg8bit/{split}',
                                            seg_map_path=f'gtFine/{split}')
    return loader


def write_json(path, obj):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path + '.partial', 'w') as f:
        json.dump(obj, f, indent=1)
    os.replace(path + '.partial', path)


def run_all(args):
    from hieraseg.datasets import generate_toy_shapes
    from hieraseg.hierarchy import build_hierarchy
    from hieraseg.utils.hssn_ablation import format_tables

    generate_toy_shapes(args.data_root, num_train=300, num_val=60, size=64, seed=0,
                        num_val_shifted=60)
    tasks = [(row, seed) for row in args.rows for seed in args.seeds]
    todo = [t for t in tasks if args.force or not osp.isfile(result_path(args.work_dir, *t))]
    print(f'{len(tasks)} runs ({len(tasks) - len(todo)} already done), {args.iters} '
          f'iterations each, {args.jobs} at once with {args.threads} thread(s)', flush=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    running, done, start = [], 0, time.time()
    log_dir = osp.join(args.work_dir, 'logs')
    os.makedirs(log_dir, exist_ok=True)
    while todo or running:
        while todo and len(running) < args.jobs:
            row, seed = todo.pop(0)
            log = open(osp.join(log_dir, f'{row}_seed{seed}.log'), 'w')
            cmd = [sys.executable, __file__, '--worker', row, str(seed), '--iters',
                   str(args.iters), '--threads', str(args.threads), '--data-root',
                   args.data_root, '--work-dir', args.work_dir]
            running.append((row, seed, log, subprocess.Popen(
                cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)))
        time.sleep(1)
        for item in list(running):
            row, seed, log, proc = item
            if proc.poll() is None:
                continue
            running.remove(item)
            log.close()
            done += 1
            if proc.returncode != 0:
                for *_, other in running:
                    other.kill()
                raise SystemExit(f'run {row} seed {seed} failed (exit {proc.returncode}); see '
                                 f'{log.name}')
            with open(result_path(args.work_dir, row, seed)) as f:
                val = json.load(f)['metrics']['val']
            first = next(iter(val.values()))
            elapsed = time.time() - start
            eta = elapsed / done * (len(todo) + len(running))
            print(f'[{done}/{done + len(todo) + len(running)}] {row} seed {seed}: '
                  + ', '.join(f'{k} {v:.2f}' for k, v in first.items())
                  + f'  (elapsed {elapsed / 60:.1f} min, about {eta / 60:.1f} min left)',
                  flush=True)
    results = []
    for row, seed in tasks:
        with open(result_path(args.work_dir, row, seed)) as f:
            results.append(json.load(f))
    levels = build_hierarchy('toy_shapes').level_names
    table = format_tables(results, levels)
    with open(osp.join(args.work_dir, 'ablation.md'), 'w') as f:
        f.write(table)
    print(table)


def main():
    args = parse_args()
    if args.list:
        for name, spec in ROWS.items():
            print(f'{name:18s} {spec["label"]}')
        return
    if args.worker:
        run_worker(args, args.worker[0], int(args.worker[1]))
    else:
        run_all(args)


if __name__ == '__main__':
    main()

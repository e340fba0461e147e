"""The toy ablation: rows x seeds on the generated toy set, as a markdown table.

    python experiments/run_toy_ablation.py [--rows cce bce ...] [--seeds 0 1 2] [--iters 2000]
        [--jobs 2] [--threads 1] [--data-root DIR] [--work-dir DIR] [--force] [--list]

A row is a config in ``experiments/toy_ablation/`` (``--list`` shows them): a shipped toy
config (flat, HSSN, DNC or hierarchical DNC) with one objective, schedule or head setting
changed, and an ``ablation_label``. Every row is trained once per seed on the same generated
data, in ``--jobs`` processes of ``--threads`` torch threads each (the thread count changes
results slightly: compare runs made with the same one), then evaluated with each of its
inference variants (HSSN: path scores 'sum', 'min', 'log'; flat models: the leaf argmax) on
the in-domain validation split and on the shifted one (other texture periods, hue jitter,
more noise). Prints progress, then mean ± std per level, one line per row and inference, and
the per-seed values; the table is also written to ``<work-dir>/ablation.md``. Finished runs
are kept (``<work-dir>/results/<row>_seed<S>.json``) and not trained again unless ``--force``.
"""
import argparse
import glob
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, Sequence

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
ROW_DIR = osp.join(REPO, 'experiments', 'toy_ablation')
SPLITS = ('val', 'val_shifted')
FLAT_DECODER = 'leaf'  # the flat model's leaf argmax, its parents read off the leaf
HSSN_DECODERS = ('sum', 'min', 'log')
CALIBRATION_BINS = 15  # ECE_<level> / cwECE_<level> of hieraseg's metric, recorded per run
PAPER_ROWS = ('cce', 'bce', 'focal', 'tm', 'ftm', 'ftm_tt')
DEFAULT_ROWS = PAPER_ROWS + ('recipe', )


def row_config(row: str) -> str:
    return osp.join(ROW_DIR, f'{row}.py')


def list_rows() -> List[str]:
    """Row names, in file name order."""
    return sorted(osp.splitext(osp.basename(p))[0]
                  for p in glob.glob(osp.join(ROW_DIR, '*.py')))


def load_row(row: str):
    from mmengine.config import Config
    return Config.fromfile(row_config(row))


def decoders(cfg) -> Sequence[str]:
    """The inference variants of a row's config."""
    return HSSN_DECODERS if cfg.model.type == 'HieraEncoderDecoder' else (FLAT_DECODER, )


def apply_run(cfg, data_root: str, iters: int, seed: int, work_dir: str):
    """Turns a row's config into one run's training config, in place: the data, ``iters``
    iterations (the schedule scaled with them), the seed, no validation during training."""
    from hieraseg.utils.schedule import scale_schedule
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    scale_schedule(cfg, iters)
    cfg.train_cfg.val_interval = iters + 1  # evaluated by this tool, not during training
    cfg.default_hooks.checkpoint.interval = iters
    cfg.default_hooks.logger.interval = max(1, iters // 10)
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    return cfg


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--rows', nargs='+', default=list(DEFAULT_ROWS),
                        help='rows to train (default: the paper\'s rows and the recipe)')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--iters', type=int, default=2000)
    parser.add_argument('--jobs', type=int, default=2, help='trainings run at once')
    parser.add_argument('--threads', type=int, default=1, help='torch threads per training')
    parser.add_argument('--data-root', default='data/toy_shapes_ablation')
    parser.add_argument('--work-dir', default='work_dirs/toy_ablation')
    parser.add_argument('--force', action='store_true', help='retrain finished runs')
    parser.add_argument('--list', action='store_true', help='list the rows and exit')
    parser.add_argument('--worker', nargs=2, metavar=('ROW', 'SEED'), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    rows = list_rows()
    unknown = [r for r in ([args.worker[0]] if args.worker else args.rows) if r not in rows]
    if unknown:
        parser.error(f'unknown rows {unknown}; choose from {rows} (experiments/toy_ablation/)')
    if min(args.jobs, args.threads, args.iters) < 1:
        parser.error('--jobs, --threads and --iters must be >= 1')
    return args


def result_path(work_dir, row, seed):
    return osp.join(work_dir, 'results', f'{row}_seed{seed}.json')


def run_worker(args, row: str, seed: int):
    """Trains one row with one seed and evaluates it; writes the result file."""
    import hieraseg  # noqa: F401  (first: quiet start, registries)
    import torch
    from mmengine.runner import Runner, TestLoop

    from hieraseg.utils import prepare_runtime

    torch.set_num_threads(args.threads)
    cfg = apply_run(load_row(row), args.data_root, args.iters, seed,
                    osp.join(args.work_dir, f'{row}_seed{seed}'))
    prepare_runtime(cfg, 'none')
    runner = Runner.from_cfg(cfg)
    start = time.time()
    runner.train()
    train_seconds = time.time() - start
    head = runner.model.decode_head
    evaluator = dict(cfg.test_evaluator, calibration_bins=CALIBRATION_BINS)
    metrics, calibration = {}, {}
    for split in SPLITS:
        loader = copy_loader(cfg.test_dataloader, split)
        metrics[split], calibration[split] = {}, {}
        for decoder in decoders(cfg):
            if decoder != FLAT_DECODER:
                head.path_score = decoder
            result = TestLoop(runner, loader, evaluator).run()
            metrics[split][decoder] = {
                key[len('mIoU_'):]: float(value)
                for key, value in result.items() if key.startswith('mIoU_')}
            calibration[split][decoder] = {
                key: float(value) for key, value in result.items() if 'ECE_' in key}
    write_json(result_path(args.work_dir, row, seed), dict(
        row=row, label=cfg.ablation_label, decoders=list(decoders(cfg)), seed=seed,
        iters=args.iters, threads=args.threads, train_seconds=round(train_seconds, 1),
        metrics=metrics, calibration=calibration))


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


def _mean_std(values: List[float]) -> str:
    if len(values) == 1:
        return f'{values[0]:.2f}'
    return f'{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}'


def _by_row(results: List[dict]) -> Dict[str, List[dict]]:
    """Result files grouped by ``row`` (in order of first appearance), each sorted by seed."""
    rows: Dict[str, List[dict]] = {}
    for result in results:
        rows.setdefault(result['row'], []).append(result)
    return {row: sorted(runs, key=lambda r: r['seed']) for row, runs in rows.items()}


def _mean_table(results: List[dict], level_names: Sequence[str], field: str,
                key: Callable[[str], str], title: Callable[[str], str]) -> List[str]:
    """Markdown lines: one row per (row, decoder), mean ± std over seeds of
    ``result[field][split][decoder][key(level)]`` for every split all results have."""
    splits = [s for s in SPLITS if all(s in r[field] for r in results)]
    head = ['row', 'inference', 'seeds'] + [
        f'{title(level)} {"in-domain" if split == "val" else "shifted"}'
        for split in splits for level in level_names]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + ' --- |' * len(head)]
    for runs in _by_row(results).values():
        for decoder in runs[0]['decoders']:
            cells = [runs[0]['label'], decoder, str(len(runs))] + [
                _mean_std([r[field][split][decoder][key(level)] for r in runs])
                for split in splits for level in level_names]
            lines.append('| ' + ' | '.join(cells) + ' |')
    return lines


def format_tables(results: List[dict], level_names: Sequence[str]) -> str:
    """Markdown: mean ± std per row x decoder, split and level; then per-seed values.
    ``results`` are result files' contents (``row``, ``label``, ``decoders``, ``seed``,
    ``metrics[split][decoder][level]``), rows in order of first appearance."""
    lines = _mean_table(results, level_names, 'metrics', lambda level: level,
                        lambda level: level)
    splits = [s for s in SPLITS if all(s in r['metrics'] for r in results)]
    per_seed = ['| row | inference | seed | ' + lines[0].split(' | ', 3)[3],
                '|' + ' --- |' * (3 + len(splits) * len(level_names))]
    for runs in _by_row(results).values():
        for decoder in runs[0]['decoders']:
            for run in runs:
                values = [f'{run["metrics"][split][decoder][level]:.2f}'
                          for split in splits for level in level_names]
                per_seed.append(f'| {run["label"]} | {decoder} | {run["seed"]} | '
                                + ' | '.join(values) + ' |')
    return '\n'.join(lines) + '\n\nPer seed:\n\n' + '\n'.join(per_seed) + '\n'


def format_calibration_table(results: List[dict], level_names: Sequence[str]) -> str:
    """Markdown: ECE per level (equal-width bins, %), mean ± std over seeds, per row x decoder
    and split; runs recorded before calibration was (no ``calibration`` key) are left out."""
    results = [r for r in results if r.get('calibration')]
    if not results:
        return ''
    lines = _mean_table(results, level_names, 'calibration',
                        lambda level: 'ECE_' + level.replace(' ', '_'),
                        lambda level: f'ECE {level}')
    return '\n'.join(lines) + '\n'


def run_all(args):
    sys.path.insert(0, REPO)
    from hieraseg.datasets import generate_toy_shapes
    from hieraseg.hierarchy import build_hierarchy

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
    level_names = build_hierarchy('toy_shapes').level_names
    table = format_tables(results, level_names)
    calibration = format_calibration_table(results, level_names)
    if calibration:
        table += '\nCalibration:\n\n' + calibration
    with open(osp.join(args.work_dir, 'ablation.md'), 'w') as f:
        f.write(table)
    print(table)


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        for row in list_rows():
            print(f'{row:34s} {load_row(row).ablation_label}')
        return
    if args.worker:
        sys.path.insert(0, REPO)
        run_worker(args, args.worker[0], int(args.worker[1]))
    else:
        run_all(args)


if __name__ == '__main__':
    main()

"""Peak memory and time of the real Cityscapes models: a training step and an inference.

    python benchmarks/benchmark_hiera_dnc_memory.py [--device cpu|cuda] [--threads 1]
        [--cases hssn hiera_dnc_x2 ...] [--modes train whole slide] [--steps N]
        [--depth 101] [--crop 512 1024] [--rounds 1] [--interleave] [--lock FILE]
        [--one-process] [--json PATH]

Cases (``--cases``; default every one but ``*_onepiece``), each the real config's whole
model (DeepLabV3+ R101-D8, SyncBN built as BN, ``model.pretrained=None``: no download):

- ``hssn``: ``configs/hssn/hssn-deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py``;
- ``hiera_dnc_x2``: ``configs/hssn/hiera-dnc-deeplabv3plus_r101-d8_4xb2-80k_cityscapes-
  512x1024.py`` as shipped (embeddings classified upsampled x2);
- ``hiera_dnc_full``: the same at full resolution (``upsample_factor=None``);
- ``linear``: ``configs/hssn/deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py``;
- ``dnc_full``: that config with a ``DNCSepASPPHead`` (K=10, LayerNorm logits) classifying
  the embeddings upsampled to full resolution;
- ``hiera_dnc_x2_onepiece``, ``hiera_dnc_full_onepiece``, ``dnc_full_onepiece``: the DNC
  cases classifying in one piece, the implementation before the memory-lean one (the
  heads' ``classify_upsampled`` replaced by its ``lean=False`` form while the case runs;
  the heads have no option for it).

Modes (``--modes``): ``train``, one training step through ``model.train_step`` (data
preprocessor, losses, backward, SGD with momentum as the configs), 512x1024 crops
(``--crop``), batch 2, random images and block labels (some ignored); ``whole`` and
``slide``, ``model.test_step`` on one random image of twice the crop size, 1024x2048
(slide: crop-sized windows, stride two thirds of the crop, 341x683). ``--depth 18`` and a
small ``--crop`` make a quick rehearsal (tools/gpu_check.sh --dry-run).

Every (case, mode) runs ``--steps`` times; the time is the median of those after the
first (the last one with 2 steps), the peak is over all. ``--rounds N`` measures every
(case, mode) N times, the cases in alternating order (so that a change in machine load
hits every case), and reports the median time and the largest peak. ``--interleave``
times the training steps only, every case's model in one process, one step of each in
turn (the order alternating), so that all see the same machine load: for step time ratios
on a shared machine; no peak. On the CPU each
(case, mode) runs
in its own process, its peak the process's maximum resident memory (``getrusage``);
``--lock FILE`` runs each such process under ``flock FILE`` (a machine shared with other
memory-hungry jobs); ``--one-process`` runs them all in one (a quick rehearsal: each peak
is then the maximum so far). On CUDA all run in one process, each peak
``torch.cuda.max_memory_allocated`` after a reset. The SinkhornClusteringHook, which runs
after the step in training, is not part of it.

Prints a markdown table and the ratios issue 23 sets as targets.
"""
import argparse
import contextlib
import functools
import gc
import json
import os.path as osp
import resource
import statistics
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

HSSN = 'configs/hssn/hssn-deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py'
HIERA_DNC = 'configs/hssn/hiera-dnc-deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py'
LINEAR = 'configs/hssn/deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py'
FLAT_DNC = dict(type='DNCSepASPPHead', num_sub_centroids=10, logit_norm='layernorm',
                classify_upsampled=True)
CASES = {
    'hssn': (HSSN, {}),
    'hiera_dnc_x2': (HIERA_DNC, {}),
    'hiera_dnc_full': (HIERA_DNC, dict(upsample_factor=None)),
    'linear': (LINEAR, {}),
    'dnc_full': (LINEAR, FLAT_DNC),
    'hiera_dnc_x2_onepiece': (HIERA_DNC, {}),
    'hiera_dnc_full_onepiece': (HIERA_DNC, dict(upsample_factor=None)),
    'dnc_full_onepiece': (LINEAR, FLAT_DNC),
}
DEFAULT_CASES = [name for name in CASES if not name.endswith('_onepiece')]
MODES = ('train', 'whole', 'slide')
# (numerator, denominator, what, peak target, time target): issue 23
TARGETS = [('hiera_dnc_x2', 'hssn', 'hierarchical DNC (shipped x2) / HSSN', 1.10, 1.15),
           ('hiera_dnc_full', 'hssn', 'hierarchical DNC (full resolution) / HSSN', 1.25, None),
           ('dnc_full', 'linear', 'flat DNC (full resolution) / linear', 1.25, None)]
GIB = 2**30


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--device', default='cpu', help="'cpu' (default) or 'cuda[:i]'")
    parser.add_argument('--threads', type=int, default=1, help='CPU threads (default 1)')
    parser.add_argument('--cases', nargs='+', default=DEFAULT_CASES, choices=list(CASES))
    parser.add_argument('--modes', nargs='+', default=list(MODES), choices=MODES)
    parser.add_argument('--steps', type=int, help='runs of each (case, mode); default 2 on '
                        'the CPU, 4 on CUDA')
    parser.add_argument('--depth', type=int, default=101, help='ResNet depth (default 101)')
    parser.add_argument('--crop', type=int, nargs=2, default=(512, 1024), metavar=('H', 'W'),
                        help='training crop (multiples of 32); inference on twice its size')
    parser.add_argument('--rounds', type=int, default=1,
                        help='measure everything this many times, alternating the order')
    parser.add_argument('--interleave', action='store_true',
                        help='time training steps of all cases in turn in one process')
    parser.add_argument('--lock', help='CPU: run each case under `flock LOCK`')
    parser.add_argument('--one-process', action='store_true',
                        help='CPU: every case in one process (peaks: the maximum so far)')
    parser.add_argument('--json', help='also write the figures to this JSON file')
    parser.add_argument('--worker', nargs='+', help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.steps = args.steps or (2 if args.device == 'cpu' else 4)
    if any(side % 32 for side in args.crop):
        parser.error(f'--crop {args.crop}: each side must be a multiple of 32')
    return args


def build_model(case: str, depth: int, crop):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS

    import hieraseg  # noqa: F401  (registers the hieraseg modules)
    config, head_update = CASES[case]
    cfg = Config.fromfile(osp.join(REPO, config))
    model = cfg.model
    model.pretrained = None
    model.decode_head.update(head_update)
    model.data_preprocessor.size = tuple(crop)
    model.backbone.depth = depth
    if depth < 50:  # ResNet-18/34: no bottleneck expansion
        model.decode_head.update(in_channels=512, c1_in_channels=64)
        model.auxiliary_head.update(in_channels=256)
    bn = dict(type='BN', requires_grad=True)  # SyncBN needs a process group
    for part in (model.backbone, model.decode_head, model.auxiliary_head):
        part.norm_cfg = bn
    with DefaultScope.overwrite_default_scope('mmseg'):
        built = MODELS.build(model)
    built.init_weights()
    return built, cfg


@contextlib.contextmanager
def classification_of(case: str):
    """While ``*_onepiece`` cases run, the DNC heads classify upsampled embeddings in one
    piece (``classify_upsampled(..., lean=False)``)."""
    if not case.endswith('_onepiece'):
        yield
        return
    from unittest import mock

    from hieraseg.models.heads import dnc_decode_heads
    from hieraseg.models.utils.upsampled_classification import classify_upsampled
    with mock.patch.object(dnc_decode_heads, 'classify_upsampled',
                           functools.partial(classify_upsampled, lean=False)):
        yield


def train_batch(num_classes: int, crop, generator):
    import torch
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    height, width = crop
    inputs, samples = [], []
    for _ in range(2):
        inputs.append(torch.randint(0, 256, (3, height, width), dtype=torch.uint8,
                                    generator=generator))
        # 32-pixel blocks of classes (triplets exist), a tenth of them ignored
        blocks = torch.randint(0, num_classes, (1, height // 32, width // 32),
                               generator=generator)
        blocks[torch.rand(blocks.shape, generator=generator) < 0.1] = 255
        labels = blocks.repeat_interleave(32, 1).repeat_interleave(32, 2)
        sample = SegDataSample(gt_sem_seg=PixelData(data=labels))
        sample.set_metainfo(dict(img_shape=crop, ori_shape=crop, pad_shape=crop))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def test_batch(size, generator):
    import torch
    from mmseg.structures import SegDataSample
    image = torch.randint(0, 256, (3, ) + size, dtype=torch.uint8, generator=generator)
    sample = SegDataSample()
    sample.set_metainfo(dict(img_shape=size, ori_shape=size, pad_shape=size))
    return dict(inputs=[image], data_samples=[sample])


class Meter:
    """Wall time and peak memory of a device."""

    def __init__(self, device: str):
        import torch
        self.torch, self.device = torch, device
        self.cuda = torch.device(device).type == 'cuda'

    def sync(self):
        if self.cuda:
            self.torch.cuda.synchronize(self.device)

    def reset(self) -> int:
        """Starts a peak measurement; returns the memory in use now."""
        if self.cuda:
            self.sync()
            self.torch.cuda.reset_peak_memory_stats(self.device)
            return self.torch.cuda.memory_allocated(self.device)
        return self.peak()

    def peak(self) -> int:
        if self.cuda:
            self.sync()
            return self.torch.cuda.max_memory_allocated(self.device)
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def timed(self, fn) -> float:
        self.sync()
        start = time.perf_counter()
        fn()
        self.sync()
        return time.perf_counter() - start


def run_mode(model, cfg, mode: str, meter: Meter, steps: int, crop) -> dict:
    import torch
    from mmengine.config import ConfigDict
    from mmengine.optim import OptimWrapper
    generator = torch.Generator().manual_seed(0)
    crop = tuple(crop)
    if mode == 'train':
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), **{
            k: v for k, v in cfg.optim_wrapper.optimizer.items() if k != 'type'})
        wrapper = OptimWrapper(optimizer)
        data = train_batch(model.decode_head.num_classes, crop, generator)
        base = meter.reset()
        seconds = [meter.timed(lambda: model.train_step(data, wrapper)) for _ in range(steps)]
        peak = meter.peak()
        del optimizer, wrapper
        model.zero_grad(set_to_none=True)
    else:
        model.eval()
        model.test_cfg = ConfigDict(mode='whole') if mode == 'whole' else ConfigDict(
            mode='slide', crop_size=crop, stride=(crop[0] * 2 // 3, crop[1] * 2 // 3))
        data = test_batch((2 * crop[0], 2 * crop[1]), generator)
        base = meter.reset()
        with torch.no_grad():
            seconds = [meter.timed(lambda: model.test_step(data)) for _ in range(steps)]
        peak = meter.peak()
    kept = seconds[1:] if len(seconds) > 1 else seconds
    return dict(peak_bytes=peak, peak_above_start_bytes=peak - base,
                seconds=statistics.median(kept), all_seconds=seconds)


def interleaved_worker(args, meter: Meter):
    """Training steps of every case in turn; prints one JSON line per case."""
    import torch
    from mmengine.optim import OptimWrapper
    cases = list(dict.fromkeys(job.split(':')[0] for job in args.worker))
    steppers = {}
    for case in cases:
        model, cfg = build_model(case, args.depth, args.crop)
        model = model.to(args.device).train()
        optimizer = torch.optim.SGD(model.parameters(), **{
            k: v for k, v in cfg.optim_wrapper.optimizer.items() if k != 'type'})
        data = train_batch(model.decode_head.num_classes, args.crop,
                           torch.Generator().manual_seed(0))
        steppers[case] = (lambda model=model, data=data, wrapper=OptimWrapper(optimizer):
                          model.train_step(data, wrapper))
    seconds = {case: [] for case in cases}
    for step in range(args.steps):
        for case in cases if step % 2 == 0 else cases[::-1]:
            with classification_of(case):
                seconds[case].append(meter.timed(steppers[case]))
    for case in cases:
        kept = seconds[case][1:] if args.steps > 1 else seconds[case]
        print(json.dumps(dict(case=case, mode='train', peak_bytes=None,
                              peak_above_start_bytes=None, seconds=statistics.median(kept),
                              all_seconds=seconds[case])), flush=True)


def worker(args):
    """Runs ``case:mode`` jobs (one model per case) and prints one JSON line per job."""
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    meter = Meter(args.device)
    if args.interleave:
        interleaved_worker(args, meter)
        return
    jobs = [job.split(':') for job in args.worker]
    for case in dict.fromkeys(case for case, _ in jobs):
        model, cfg = build_model(case, args.depth, args.crop)
        model = model.to(args.device)
        for mode in [mode for c, mode in jobs if c == case]:
            with classification_of(case):
                result = run_mode(model, cfg, mode, meter, args.steps, args.crop)
            print(json.dumps(dict(case=case, mode=mode, **result)), flush=True)
        del model
        gc.collect()
        if meter.cuda:
            torch.cuda.empty_cache()


def launch(args, jobs):
    command = [sys.executable, __file__, '--device', args.device, '--threads',
               str(args.threads), '--steps', str(args.steps), '--depth', str(args.depth),
               '--crop', *map(str, args.crop)] + (['--interleave'] if args.interleave else []) \
        + ['--worker'] + jobs
    if args.lock:
        command = ['flock', args.lock] + command
    out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith('{')]


def ratio_rows(results: dict):
    rows = []
    for num, den, what, peak_target, time_target in TARGETS:
        a, b = results.get((num, 'train')), results.get((den, 'train'))
        if a is None or b is None:
            continue
        peak = None if a['peak_bytes'] is None else a['peak_bytes'] / b['peak_bytes']
        step = a['seconds'] / b['seconds']
        rows.append(dict(what=what, peak=peak, peak_target=peak_target, time=step,
                         time_target=time_target))
        if len(a['all_seconds']) == len(b['all_seconds']) > 1:  # interleaved steps
            rows[-1]['step_ratios'] = [x / y for x, y in zip(a['all_seconds'][1:],
                                                             b['all_seconds'][1:])]
    return rows


def verdict(value, target) -> str:
    if value is None:
        return '-'
    if target is None:
        return f'{value:.3f}x'
    return f"{value:.3f}x (<= {target:.2f}: {'met' if value <= target else 'missed'})"


def markdown(args, results: dict) -> str:
    import torch
    cuda = torch.device(args.device).type == 'cuda'
    device = torch.cuda.get_device_name(torch.device(args.device)) if cuda \
        else f'CPU, {args.threads} thread(s)'
    timing = f'median of runs 2..{args.steps}' if args.steps > 2 else f'run {args.steps}'
    if args.rounds > 1:
        timing += f', median of {args.rounds} rounds in alternating order'
    peak = 'max_memory_allocated' if cuda else 'maximum RSS of one process, all cases ' \
        '(the maximum so far)' if args.one_process else 'maximum RSS of the process'
    if args.interleave:
        peak, timing = 'not measured', timing + ', steps of the cases in turn in one process'
    lines = [f"R{args.depth}, {args.crop[0]}x{args.crop[1]} crops (batch 2), inference on "
             f"{2 * args.crop[0]}x{2 * args.crop[1]}; {device}; peak: {peak}; "
             f'time: {timing}', '',
             '| case | ' + ' | '.join(f'{m} peak GiB | {m} s' for m in args.modes) + ' |',
             '| --- |' + ' --- | --- |' * len(args.modes)]
    for case in args.cases:
        cells = []
        for mode in args.modes:
            r = results.get((case, mode))
            cells += ['-', '-'] if r is None else [
                '-' if r['peak_bytes'] is None else f"{r['peak_bytes'] / GIB:.2f}",
                f"{r['seconds']:.2f}"]
        lines.append(f'| {case} | ' + ' | '.join(cells) + ' |')
    rows = ratio_rows(results)
    if rows:
        lines += ['', '| training step | peak ratio (target) | time ratio (target) |',
                  '| --- | --- | --- |']
        lines += [f"| {r['what']} | {verdict(r['peak'], r['peak_target'])} | "
                  f"{verdict(r['time'], r['time_target'])} |" for r in rows]
        lines += [f"{r['what']}: per-step time ratios " + ', '.join(
            f'{x:.3f}' for x in r['step_ratios']) for r in rows if 'step_ratios' in r]
    return '\n'.join(lines)


def main():
    args = parse_args()
    if args.worker:
        worker(args)
        return
    if args.interleave:
        args.modes, args.one_process = ['train'], True
    jobs = [f'{case}:{mode}' for case in args.cases for mode in args.modes]
    rounds = {}
    for round_ in range(args.rounds):
        order = jobs if round_ % 2 == 0 else jobs[::-1]
        if args.device == 'cpu' and not args.one_process:
            measured = []
            for job in order:
                measured += launch(args, [job])
                r = measured[-1]
                print(f"{r['case']} {r['mode']}: peak {r['peak_bytes'] / GIB:.2f} GiB, "
                      f"{r['seconds']:.2f} s", flush=True)
        else:
            measured = launch(args, order)
        for r in measured:
            rounds.setdefault((r['case'], r['mode']), []).append(r)
    results = {key: dict(runs[0], peak_bytes=None if args.interleave else max(
                             r['peak_bytes'] for r in runs),
                         seconds=statistics.median(r['seconds'] for r in runs),
                         round_seconds=[r['seconds'] for r in runs])
               for key, runs in rounds.items()}
    print(markdown(args, results))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(device=args.device, threads=args.threads, steps=args.steps,
                           rounds=args.rounds,
                           depth=args.depth, crop=list(args.crop),
                           one_process=args.one_process or args.device != 'cpu',
                           results=[dict(r) for r in results.values()],
                           ratios=ratio_rows(results)), f, indent=1)


if __name__ == '__main__':
    main()

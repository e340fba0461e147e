"""Peak memory and time of a DNC head's training step with and without
``classify_upsampled`` (the embeddings classified at the label size, or upsampled by
``upsample_factor`` only), on the CPU.

    python benchmarks/benchmark_classify_upsampled.py CONFIG [--batch-size 2] [--threads 1]
        [--factors 2] [--onepiece]

Builds only the config's decode head, feeds it random backbone features of the shapes a
``crop_size`` input gives (ResNet-D8: strides 4, 8, 8, 8), runs one loss forward and
backward per mode (off, every ``--factors`` value, all the way), each in a fresh process,
and prints the process's peak resident memory above the same process after building the
head, and the wall time of the step. Features and labels are random: the figures measure
the head, not a model. SyncBN is built as BN (no process group). The embeddings are
classified the memory-lean way (the default); ``--onepiece`` measures the one-piece
classification instead (``classify_upsampled(..., lean=False)`` in place of the heads'
call). The whole model: benchmark_hiera_dnc_memory.py.
"""
import argparse
import json
import os.path as osp
import resource
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--factors', type=int, nargs='*', default=[2],
                        help='upsample_factor values to measure besides off and full')
    parser.add_argument('--onepiece', action='store_true',
                        help='classify in one piece (the implementation before the lean one)')
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    return parser.parse_args()


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker(args):
    import torch
    from mmengine.config import Config
    from mmengine.structures import PixelData
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample
    from mmseg.utils import register_all_modules

    import hieraseg  # noqa: F401  (registers the heads)
    register_all_modules()
    if args.onepiece:  # the heads' call, in one piece (this process only)
        from functools import partial

        from hieraseg.models.heads import dnc_decode_heads
        from hieraseg.models.utils.upsampled_classification import classify_upsampled
        dnc_decode_heads.classify_upsampled = partial(classify_upsampled, lean=False)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = Config.fromfile(args.config)
    head_cfg = cfg.model.decode_head.copy()
    head_cfg['classify_upsampled'] = args.worker != 'off'
    head_cfg['upsample_factor'] = int(args.worker) if args.worker.isdigit() else None
    head_cfg['norm_cfg'] = dict(type='BN', requires_grad=True)  # SyncBN needs a process group
    head = MODELS.build(head_cfg)
    head.init_weights()
    head.train()
    height, width = cfg.crop_size
    b = args.batch_size
    widths = (256, 512, 1024, 2048)
    strides = (4, 8, 8, 8)
    inputs = [torch.randn(b, c, height // s, width // s) for c, s in zip(widths, strides)]
    samples = []
    for _ in range(b):
        sample = SegDataSample()
        leaves = head.hierarchy.num_leaves
        sample.gt_sem_seg = PixelData(data=torch.randint(0, leaves, (1, height, width)))
        sample.set_metainfo(dict(img_shape=(height, width), pad_shape=(height, width)))
        samples.append(sample)
    base = peak_mib()
    start = time.time()
    losses = head.loss(inputs, samples, None)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    seconds = time.time() - start
    print(json.dumps(dict(mode=args.worker, peak_above_build_mib=round(peak_mib() - base),
                          seconds=round(seconds, 2))))


def main():
    args = parse_args()
    if args.worker:
        worker(args)
        return
    for mode in ['off'] + [str(f) for f in args.factors] + ['full']:
        out = subprocess.run(
            [sys.executable, __file__, args.config, '--batch-size', str(args.batch_size),
             '--threads', str(args.threads), '--worker', mode] +
            (['--onepiece'] if args.onepiece else []),
            check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        result = json.loads(out)
        label = {'off': 'off (logits upsampled)', 'full': 'on, to the label size'}.get(
            mode, f'on, upsample_factor={mode}')
        label += ' (one piece)' if args.onepiece and mode != 'off' else ''
        print(f"classify_upsampled {label}: peak memory above the built head "
              f"{result['peak_above_build_mib']} MiB, step {result['seconds']} s", flush=True)


if __name__ == '__main__':
    main()

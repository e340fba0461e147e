"""CAST-S against ViT-S (DeiT-S, patch 16) at 224 x 224: FLOPs and CPU throughput.

FLOPs are counted by mmengine's ``FlopAnalyzer`` (fvcore's convention: one
multiply-add = one FLOP, as the paper's 3.4 vs 4.7 GFLOPs) on one image, with a handle
added for ``aten::scaled_dot_product_attention`` (``QK^T`` and ``AV``: ``2 N^2 d`` per head)
so that attention counts in both models, and ``aten::scatter_add`` counted as one per
element. Ops the analyser does not count (elementwise ops, softmax, FPS's distance updates)
are listed. CAST-S gets a 14 x 14 grid of 16-pixel superpixels (196 segments, the paper's
count; the model's cost depends on the number of segments, not their shape).

Throughput: eval-mode forward passes (``torch.no_grad``) of a batch, the two models timed
in alternation (machine load hits both), median images/s over the repeats.

    python benchmarks/benchmark_cast.py [--batch-size 8] [--repeats 5] [--threads N]
        [--skip-flops] [--skip-speed] [--json PATH]
"""
import argparse
import json
import os
import statistics
import time
from collections import Counter

import torch
from mmengine.analysis import FlopAnalyzer
from mmpretrain.models.backbones import VisionTransformer

import hieraseg  # noqa: F401
from hieraseg.models.backbones import CAST

PAPER_GFLOPS = dict(cast_s=3.4, vit_s=4.7)


def grid_superpixels(batch: int, size: int, cell: int) -> torch.Tensor:
    cols = (size + cell - 1) // cell
    sp = (torch.arange(size)[:, None] // cell) * cols + torch.arange(size)[None] // cell
    return sp.expand(batch, size, size).contiguous()


def sdpa_flop_jit(inputs, outputs):
    """``scaled_dot_product_attention(q, k, v)``: q ``[B, h, N, d]``, k/v ``[B, h, M, d]``."""
    from mmengine.analysis.jit_handles import get_shape
    q, k = get_shape(inputs[0]), get_shape(inputs[1])
    b, h, n, d = q
    return b * h * n * k[-2] * d * 2


def scatter_flop_jit(inputs, outputs):
    from mmengine.analysis.jit_handles import get_shape
    numel = 1
    for s in get_shape(inputs[3]):
        numel *= s
    return numel


class Wrapper(torch.nn.Module):
    """Tuple output -> first tensor (the analyser traces a module)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, *args):
        return self.model(*args)[0]


def count_flops(model, inputs):
    analyzer = FlopAnalyzer(Wrapper(model), inputs)
    analyzer.set_op_handle('aten::scaled_dot_product_attention', sdpa_flop_jit,
                           'aten::scatter_add_', scatter_flop_jit,
                           'aten::scatter_add', scatter_flop_jit)
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    total = analyzer.total()
    by_op = analyzer.by_operator()
    return total, dict(by_op), dict(Counter(analyzer.unsupported_ops()).most_common(8))


def build_models():
    torch.manual_seed(0)
    cast = CAST(arch='small')
    vit = VisionTransformer(arch='deit-small', img_size=224, patch_size=16,
                            out_type='cls_token')
    cast.eval()  # (mmpretrain's train() returns None: no chaining)
    vit.eval()
    return cast, vit


def params(model):
    return sum(p.numel() for p in model.parameters())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--skip-flops', action='store_true')
    parser.add_argument('--skip-speed', action='store_true')
    parser.add_argument('--json', default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cast, vit = build_models()
    result = dict(torch=torch.__version__, threads=torch.get_num_threads(),
                  load_avg=os.getloadavg()[0], image_size=224, num_superpixels=196,
                  params=dict(cast_s=params(cast), vit_s=params(vit)))
    print(f'torch {torch.__version__}, {result["threads"]} threads, load average '
          f'{result["load_avg"]:.2f}; params CAST-S {params(cast) / 1e6:.2f} M, '
          f'ViT-S {params(vit) / 1e6:.2f} M')
    x1, sp1 = torch.randn(1, 3, 224, 224), grid_superpixels(1, 224, 16)
    if not args.skip_flops:
        with torch.no_grad():
            c_total, c_ops, c_unsup = count_flops(cast, (x1, sp1))
            v_total, v_ops, v_unsup = count_flops(vit, (x1, ))
        result['gflops'] = dict(cast_s=c_total / 1e9, vit_s=v_total / 1e9,
                                ratio=c_total / v_total, paper=PAPER_GFLOPS,
                                paper_ratio=PAPER_GFLOPS['cast_s'] / PAPER_GFLOPS['vit_s'])
        result['flops_by_op'] = dict(cast_s=c_ops, vit_s=v_ops)
        result['uncounted_ops'] = dict(cast_s=c_unsup, vit_s=v_unsup)
        print(f'GFLOPs (multiply-adds) CAST-S {c_total / 1e9:.2f}, ViT-S {v_total / 1e9:.2f}, '
              f'ratio {c_total / v_total:.3f} (paper 3.4 / 4.7 = '
              f'{PAPER_GFLOPS["cast_s"] / PAPER_GFLOPS["vit_s"]:.3f})')
        print('  CAST-S by op (G):', {k: round(v / 1e9, 3) for k, v in c_ops.items()})
        print('  ViT-S by op (G): ', {k: round(v / 1e9, 3) for k, v in v_ops.items()})
        print('  not counted (CAST-S):', c_unsup)
    if not args.skip_speed:
        B = args.batch_size
        x, sp = torch.randn(B, 3, 224, 224), grid_superpixels(B, 224, 16)
        times = dict(cast_s=[], vit_s=[])
        with torch.no_grad():
            cast(x, sp), vit(x)  # warm-up
            for _ in range(args.repeats):
                for name, run in (('cast_s', lambda: cast(x, sp)), ('vit_s', lambda: vit(x))):
                    t0 = time.perf_counter()
                    run()
                    times[name].append(time.perf_counter() - t0)
        ips = {k: B / statistics.median(v) for k, v in times.items()}
        result['images_per_s'] = dict(ips, ratio=ips['cast_s'] / ips['vit_s'],
                                      batch_size=B, repeats=args.repeats,
                                      seconds=times)
        print(f'CPU throughput (batch {B}, median of {args.repeats}, alternating): CAST-S '
              f'{ips["cast_s"]:.1f} img/s, ViT-S {ips["vit_s"]:.1f} img/s, CAST-S / ViT-S '
              f'{ips["cast_s"] / ips["vit_s"]:.2f}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)


if __name__ == '__main__':
    main()

"""What the clustering hook costs in a hierarchical DNC training iteration, against DNC.

One training iteration (forward, backward, SGD step, then the SinkhornClusteringHook with a
full memory) of DeepLabV3+ with a ResNet-18 backbone on Cityscapes-size inputs, for the
hierarchical DNC head (``HieraDNCSepASPPHead``: K sub-centroids for the 19 leaves and the
7 categories, the HSSN recipe's losses) and for the plain DNC head (``DNCSepASPPHead``, 19
classes, CE), both built from ``configs/hssn/hiera-dnc-deeplabv3plus_r101-d8_4xb2-80k_
cityscapes-512x1024.py`` with the backbone swapped for ResNet-18 (no auxiliary head, no
pretrained weights: timing does not care). The two are timed in alternation (a change of
machine load hits both) and compared by their medians; the hook's time is measured
inside each iteration, so its share of the iteration is reported for both.

    python benchmarks/benchmark_hiera_dnc.py [--size 512] [--batch-size 2] [--iters 3]
        [--memory 2000] [--threads N] [--json PATH]
"""
import argparse
import copy
import json
import statistics
import time
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData

import hieraseg  # noqa: F401
from hieraseg.engine.hooks import SinkhornClusteringHook

CONFIG = 'configs/hssn/hiera-dnc-deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py'
NAME = 'decode_head.classifier'


def build(hierarchical: bool, memory_size: int):
    """(model, hook) of the R18 variant of CONFIG; plain DNC when not hierarchical."""
    from mmseg.registry import MODELS
    cfg = Config.fromfile(CONFIG)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.pop('pretrained', None)
    model_cfg.backbone.update(depth=18, init_cfg=None)
    model_cfg.auxiliary_head = None
    head = model_cfg.decode_head
    head.update(in_channels=512, c1_in_channels=64, c1_channels=48, channels=128,
                norm_cfg=dict(type='BN', requires_grad=True))
    model_cfg.backbone.norm_cfg = dict(type='BN', requires_grad=True)
    if not hierarchical:
        model_cfg.type = 'EncoderDecoder'
        head.type = 'DNCSepASPPHead'
        head.num_classes = 19
        head.loss_decode = dict(type='CrossEntropyLoss', loss_weight=1.0)
        for key in ('hierarchy', 'loss_triplet'):
            head.pop(key, None)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(model_cfg)
    hook = SinkhornClusteringHook(memory_size=memory_size)
    runner = SimpleNamespace(model=model, iter=0,
                             message_hub=MessageHub.get_instance(f'bench_{hierarchical}'))
    hook.before_train(runner)
    # steady state: a full memory, 80 % of it correctly classified, all initialised
    memory = hook.memories[NAME]
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(memory.num_classes).repeat_interleave(memory.capacity)
    centres = F.normalize(torch.randn(memory.num_classes, memory.feat_dim, generator=g), dim=-1)
    feats = F.normalize(centres[labels] + torch.randn(labels.numel(), memory.feat_dim,
                                                      generator=g) / 10, dim=-1)
    memory.enqueue(feats, labels, torch.rand(labels.numel(), generator=g) < 0.8)
    model.decode_head.classifier.initialized.fill_(True)
    return model.train(), hook, runner


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--size', type=int, default=512)
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--iters', type=int, default=3)
    parser.add_argument('--memory', type=int, default=2000, help='features per leaf class')
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--json', help='also write the figures to this JSON file')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from mmseg.structures import SegDataSample
    g = torch.Generator().manual_seed(1)
    b, s = args.batch_size, args.size
    inputs = torch.randn(b, 3, s, s, generator=g)
    samples = []
    for _ in range(b):  # blocks of one class each, as real label maps are
        blocks = torch.randint(0, 19, (1, 1, s // 64, s // 64), generator=g).float()
        label = F.interpolate(blocks, size=(s, s), mode='nearest')[0].long()
        sample = SegDataSample(gt_sem_seg=PixelData(data=label))
        sample.set_metainfo(dict(img_shape=(s, s), pad_shape=(s, s), ori_shape=(s, s)))
        samples.append(sample)
    models = {name: build(name == 'hiera_dnc', args.memory) for name in ('dnc', 'hiera_dnc')}
    optims = {name: torch.optim.SGD(m[0].parameters(), lr=0.01, momentum=0.9)
              for name, m in models.items()}
    times = {name: [] for name in models}
    hooks = {name: [] for name in models}

    def iteration(name):
        model, hook, runner = models[name]
        start = time.perf_counter()
        losses = model(inputs, samples, mode='loss')
        loss = sum(v for k, v in losses.items() if 'loss' in k)
        optims[name].zero_grad()
        loss.backward()
        optims[name].step()
        hook_start = time.perf_counter()
        hook.after_train_iter(runner, runner.iter)
        end = time.perf_counter()
        runner.iter += 1
        return end - start, end - hook_start

    print(f'DeepLabV3+ R18, batch {b} of {s}x{s}, {torch.get_num_threads()} thread(s), '
          f'memory {args.memory} per leaf class (19 leaves); medians of {args.iters} '
          'alternating iterations after one warm-up each', flush=True)
    for name in models:
        iteration(name)  # warm-up
    for _ in range(args.iters):
        for name in models:
            total, hook = iteration(name)
            times[name].append(total)
            hooks[name].append(hook)
    result = {}
    for name, label in (('dnc', 'DNC (19 classes)'),
                        ('hiera_dnc', 'hierarchical DNC (19 + 7 nodes)')):
        it, hk = statistics.median(times[name]), statistics.median(hooks[name])
        result[name] = dict(iteration=it, hook=hk, share=hk / it, runs=times[name],
                            hook_runs=hooks[name])
        print(f'  {label:32s} iteration {it:7.3f} s, hook {hk * 1e3:8.1f} ms = '
              f'{100 * hk / it:5.2f} % of the iteration  (runs: '
              + ', '.join(f'{t:.2f}' for t in times[name]) + ')')
    extra = result['hiera_dnc']['hook'] - result['dnc']['hook']
    print(f'  the hierarchy adds {extra * 1e3:.1f} ms of clustering per iteration '
          f'({100 * extra / result["dnc"]["iteration"]:+.2f} % of a DNC iteration)')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(args=vars(args), result=result), f, indent=1)


if __name__ == '__main__':
    main()

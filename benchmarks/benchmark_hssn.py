"""How much the HSSN losses add to a training iteration.

(a) One training iteration (forward, backward, SGD step) of DeepLabV3+ on random 512x512
    images, batch 2: the HSSN model (V-channel classifier, embedding branch, focal tree-min +
    tree-triplet losses) against the same model with mmseg's softmax CE. The two are timed
    in alternation, so that a change in machine load hits both; reported are the medians,
    the fastest iterations and the median (and quartiles) of the per-step ratios.
(b) The decode head's losses alone, forward and backward, on fixed head outputs of the
    sizes in (a): the HSSN head's ``loss_by_feat`` (upsampling, tree-min, tree-triplet,
    training accuracy) against the CE head's (upsampling, CE, training accuracy).
(c) The tree-min loss alone against mmseg's softmax CE alone, forward and backward, on
    fixed logits at label resolution (V and C_0 channels).

    python benchmarks/benchmark_hssn.py [--depth 18] [--iters 10] [--hierarchy cityscapes]
"""
import argparse
import statistics
import time

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import hieraseg  # noqa: F401
from hieraseg.hierarchy import build_hierarchy


def build_model(depth: int, hierarchy, hssn: bool):
    cfg = Config.fromfile('configs/hssn/deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py')
    model = cfg.model
    model.pop('pretrained')
    model.backbone.depth = depth
    model.data_preprocessor.size = (512, 512)
    if depth < 50:  # ResNet-18/34 have no bottleneck expansion: 512 deepest channels
        model.decode_head.update(in_channels=512, c1_in_channels=64)
        model.auxiliary_head.update(in_channels=256)
    model.decode_head.num_classes = model.auxiliary_head.num_classes = hierarchy.num_leaves
    if hssn:
        model.decode_head.type = 'HieraSepASPPHead'
        model.decode_head.hierarchy = hierarchy
        model.decode_head.loss_decode = dict(type='TreeMinLoss', gamma=2.0, loss_weight=1.0)
        model.decode_head.loss_triplet = dict(type='TreeTripletLoss', loss_weight=0.5,
                                              ramp=None)
    cfg_norm = dict(type='BN', requires_grad=True)
    for part in (model.backbone, model.decode_head, model.auxiliary_head):
        part.norm_cfg = cfg_norm
    with DefaultScope.overwrite_default_scope('mmseg'):
        built = MODELS.build(model)
    built.init_weights()
    return built.train()


def batch(num_classes: int, generator: torch.Generator):
    inputs = torch.randn(2, 3, 512, 512, generator=generator)
    samples = []
    for _ in range(2):
        # blocks of classes, as in real label maps, so that triplets exist
        blocks = torch.randint(0, num_classes, (1, 16, 16), generator=generator)
        labels = blocks.repeat_interleave(32, 1).repeat_interleave(32, 2)
        sample = SegDataSample(metainfo=dict(img_shape=(512, 512), pad_shape=(512, 512)))
        sample.gt_sem_seg = PixelData(data=labels)
        samples.append(sample)
    return inputs, samples


def train_step(model, optimizer, inputs, samples) -> float:
    start = time.perf_counter()
    losses = model(inputs, samples, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    optimizer.zero_grad()
    total.backward()
    optimizer.step()
    return time.perf_counter() - start


def timed_steps(steps: dict, iters: int, alternate: bool = False) -> dict:
    """Runs every ``steps[name](step)`` (which returns the seconds it measured) ``iters + 2``
    times, the first two as warm-up; with ``alternate`` the order flips every step, so that
    a change in machine load hits every entry. Returns the measured seconds per name."""
    names = list(steps)
    times = {name: [] for name in names}
    for step in range(iters + 2):
        for name in names if not alternate or step % 2 == 0 else names[::-1]:
            elapsed = steps[name](step)
            if step >= 2:
                times[name].append(elapsed)
    return times


def time_losses(models, samples, hierarchy, iters: int):
    """(b): the decode heads' ``loss_by_feat`` on fixed outputs, forward and backward."""
    generator = torch.Generator().manual_seed(1)
    outputs = {
        'ce': (torch.randn(2, hierarchy.num_leaves, 128, 128, generator=generator), ),
        'hssn': (torch.randn(2, hierarchy.num_nodes, 128, 128, generator=generator),
                 torch.randn(2, 256, 64, 64, generator=generator)),
    }

    def step(name):
        leaves = [t.clone().requires_grad_() for t in outputs[name]]
        head = models[name].decode_head
        start = time.perf_counter()
        if name == 'hssn':
            embeddings = torch.nn.functional.normalize(leaves[1], dim=1)
            losses = head.loss_by_feat(leaves[0], samples, embeddings)
        else:
            losses = head.loss_by_feat(leaves[0], samples)
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        return time.perf_counter() - start

    times = timed_steps({name: lambda _, name=name: step(name) for name in models}, iters)
    return {name: statistics.median(t) for name, t in times.items()}


def time_tree_min(models, samples, iters: int):
    """(c): the tree-min loss against softmax CE on fixed full-resolution logits."""
    labels = torch.stack([s.gt_sem_seg.data[0] for s in samples])
    generator = torch.Generator().manual_seed(2)
    hierarchy = models['hssn'].decode_head.hierarchy
    logits = {'ce': torch.randn(2, hierarchy.num_leaves, *labels.shape[1:], generator=generator),
              'hssn': torch.randn(2, hierarchy.num_nodes, *labels.shape[1:],
                                  generator=generator)}

    def step(name):
        inputs = logits[name].requires_grad_()
        inputs.grad = None
        start = time.perf_counter()
        models[name].decode_head.loss_decode(inputs, labels, ignore_index=255).backward()
        return time.perf_counter() - start

    times = timed_steps({name: lambda _, name=name: step(name) for name in models}, iters)
    return {name: statistics.median(t) for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--depth', type=int, default=18)
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--hierarchy', default='cityscapes')
    args = parser.parse_args()
    hierarchy = build_hierarchy(args.hierarchy)
    torch.manual_seed(0)
    models = {name: build_model(args.depth, hierarchy, name == 'hssn') for name in ('ce', 'hssn')}
    optimizers = {n: torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
                  for n, m in models.items()}
    generator = torch.Generator().manual_seed(0)
    data = [batch(hierarchy.num_leaves, generator) for _ in range(2)]
    times = timed_steps(
        {name: lambda step, name=name: train_step(models[name], optimizers[name],
                                                  *data[step % 2])
         for name in models}, args.iters, alternate=True)
    ce, hssn = (statistics.median(times[n]) for n in ('ce', 'hssn'))
    ratios = [h / c for h, c in zip(times['hssn'], times['ce'])]
    low, mid, high = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    print(f'DeepLabV3+ R{args.depth}, 512x512, batch 2, hierarchy {hierarchy.name} '
          f'(V={hierarchy.num_nodes}), {torch.get_num_threads()} threads, '
          f'median of {args.iters} iterations')
    print('(a) training iteration')
    fastest = {n: min(times[n]) for n in times}
    print(f'  softmax CE          : {ce:.3f} s/iter (fastest {fastest["ce"]:.3f})')
    print(f'  HSSN (FTM + TT)     : {hssn:.3f} s/iter (fastest {fastest["hssn"]:.3f})')
    print(f'  HSSN / CE           : {hssn / ce:.3f} (+{100 * (hssn / ce - 1):.1f}%); fastest / '
          f'fastest {fastest["hssn"] / fastest["ce"]:.3f}; per-step ratios: median '
          f'{statistics.median(ratios):.3f}, quartiles {low:.3f} .. {high:.3f}')
    losses = time_losses(models, data[0][1], hierarchy, args.iters)
    print('(b) decode-head losses alone, forward + backward')
    print(f'  CE + accuracy       : {1000 * losses["ce"]:.1f} ms')
    print(f'  FTM + TT + accuracy : {1000 * losses["hssn"]:.1f} ms')
    print(f'  difference          : {1000 * (losses["hssn"] - losses["ce"]):.1f} ms = '
          f'{100 * (losses["hssn"] - losses["ce"]) / ce:.1f}% of the CE iteration')
    alone = time_tree_min(models, data[0][1], args.iters)
    print('(c) the loss functions alone on logits at label resolution, forward + backward')
    print(f'  softmax CE          : {1000 * alone["ce"]:.1f} ms')
    print(f'  focal tree-min      : {1000 * alone["hssn"]:.1f} ms')


if __name__ == '__main__':
    main()

"""How much the HSSN losses add to a training iteration.

(a) One training iteration (forward, backward, SGD step) of DeepLabV3+ on random images
    (512x512, ``--size``), batch 2: the HSSN model (V-channel classifier, embedding
    branch, focal tree-min + tree-triplet losses) against the same model with mmseg's
    softmax CE. The two are timed in alternation, so that a change in machine load hits
    both; reported are the medians, the fastest iterations and the median (and quartiles)
    of the per-step ratios.
(b) The decode head's losses alone, forward and backward, on fixed head outputs of the
    sizes in (a): the HSSN head's ``loss_by_feat`` (upsampling, tree-min, training
    accuracy) and ``loss_by_embeddings`` (tree-triplet) against the CE head's
    ``loss_by_feat`` (upsampling, CE, training accuracy).
(c) The tree-min loss alone against mmseg's softmax CE alone, forward and backward, on
    fixed logits at label resolution (V and C_0 channels).

    python benchmarks/benchmark_hssn.py [--depth 18] [--iters 10] [--hierarchy cityscapes]
        [--size 512 512] [--device cpu|cuda] [--amp] [--json PATH]

On CUDA every timing synchronises the device, and the peak GPU memory of one training
iteration of each model is reported. ``--amp``: autocast (float16 on CUDA, with a gradient
scaler; bfloat16 on the CPU). The paper's size is ``--depth 101 --size 512 1024``.
"""
import argparse
import json
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


def sync(device: str):
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device)


class Stepper:
    """Device, autocast and (fp16 on CUDA) gradient scaling of the timed steps."""

    def __init__(self, device: str, amp: bool):
        self.device = device
        kind = torch.device(device).type
        dtype = torch.float16 if kind == 'cuda' else torch.bfloat16
        self.autocast = lambda: torch.autocast(kind, dtype=dtype, enabled=amp)
        self.scaler = torch.amp.GradScaler('cuda') if amp and kind == 'cuda' else None

    def backward(self, loss, optimizer=None):
        if self.scaler is None:
            loss.backward()
            if optimizer is not None:
                optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            if optimizer is not None:
                self.scaler.step(optimizer)
                self.scaler.update()


def build_model(depth: int, hierarchy, hssn: bool, size=(512, 512)):
    cfg = Config.fromfile('configs/hssn/deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py')
    model = cfg.model
    model.pop('pretrained')
    model.backbone.depth = depth
    model.data_preprocessor.size = tuple(size)
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


def batch(num_classes: int, generator: torch.Generator, size=(512, 512), device='cpu'):
    height, width = size
    inputs = torch.randn(2, 3, height, width, generator=generator).to(device)
    samples = []
    for _ in range(2):
        # blocks of classes, as in real label maps, so that triplets exist
        blocks = torch.randint(0, num_classes, (1, max(height // 32, 1), max(width // 32, 1)),
                               generator=generator)
        labels = blocks.repeat_interleave(32, 1).repeat_interleave(32, 2)[:, :height, :width]
        sample = SegDataSample(metainfo=dict(img_shape=(height, width),
                                             pad_shape=(height, width)))
        sample.gt_sem_seg = PixelData(data=labels.to(device))
        samples.append(sample)
    return inputs, samples


def train_step(model, optimizer, inputs, samples, stepper: Stepper) -> float:
    sync(stepper.device)
    start = time.perf_counter()
    with stepper.autocast():
        losses = model(inputs, samples, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    optimizer.zero_grad()
    stepper.backward(total, optimizer)
    sync(stepper.device)
    return time.perf_counter() - start


def peak_memory(step, device: str):
    """Peak CUDA memory (bytes) of one ``step()``; None on the CPU."""
    if torch.device(device).type != 'cuda':
        step()
        return None
    sync(device)
    torch.cuda.reset_peak_memory_stats(device)
    step()
    sync(device)
    return torch.cuda.max_memory_allocated(device)


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


def time_losses(models, samples, hierarchy, iters: int, size=(512, 512), device='cpu'):
    """(b): the decode heads' losses on fixed outputs, forward and backward."""
    generator = torch.Generator().manual_seed(1)
    out_h, out_w = size[0] // 4, size[1] // 4
    outputs = {
        'ce': (torch.randn(2, hierarchy.num_leaves, out_h, out_w, generator=generator), ),
        'hssn': (torch.randn(2, hierarchy.num_nodes, out_h, out_w, generator=generator),
                 torch.randn(2, 256, out_h // 2, out_w // 2, generator=generator)),
    }
    outputs = {name: tuple(t.to(device) for t in ts) for name, ts in outputs.items()}

    def step(name):
        leaves = [t.clone().requires_grad_() for t in outputs[name]]
        head = models[name].decode_head
        sync(device)
        start = time.perf_counter()
        if name == 'hssn':
            embeddings = torch.nn.functional.normalize(leaves[1], dim=1)
            losses = head.loss_by_feat(leaves[0], samples)
            losses.update(head.loss_by_embeddings(embeddings, samples))
        else:
            losses = head.loss_by_feat(leaves[0], samples)
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        sync(device)
        return time.perf_counter() - start

    times = timed_steps({name: lambda _, name=name: step(name) for name in models}, iters)
    return {name: statistics.median(t) for name, t in times.items()}


def time_tree_min(models, samples, iters: int, device='cpu'):
    """(c): the tree-min loss against softmax CE on fixed full-resolution logits."""
    labels = torch.stack([s.gt_sem_seg.data[0] for s in samples])
    generator = torch.Generator().manual_seed(2)
    hierarchy = models['hssn'].decode_head.hierarchy
    logits = {'ce': torch.randn(2, hierarchy.num_leaves, *labels.shape[1:], generator=generator),
              'hssn': torch.randn(2, hierarchy.num_nodes, *labels.shape[1:],
                                  generator=generator)}
    logits = {name: t.to(device) for name, t in logits.items()}

    def step(name):
        inputs = logits[name].requires_grad_()
        inputs.grad = None
        sync(device)
        start = time.perf_counter()
        models[name].decode_head.loss_decode(inputs, labels, ignore_index=255).backward()
        sync(device)
        return time.perf_counter() - start

    times = timed_steps({name: lambda _, name=name: step(name) for name in models}, iters)
    return {name: statistics.median(t) for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--depth', type=int, default=18)
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--hierarchy', default='cityscapes')
    parser.add_argument('--size', type=int, nargs=2, default=(512, 512), metavar=('H', 'W'),
                        help='image size (multiples of 32); the paper trains at 512 1024')
    parser.add_argument('--device', default='cpu', help="'cpu' (default) or 'cuda[:i]'")
    parser.add_argument('--amp', action='store_true',
                        help='autocast: float16 + gradient scaling on CUDA, bfloat16 on CPU')
    parser.add_argument('--json', help='also write the figures to this JSON file')
    args = parser.parse_args()
    if torch.device(args.device).type == 'cuda' and not torch.cuda.is_available():
        parser.error(f'--device {args.device}: torch sees no CUDA device')
    if any(side % 32 for side in args.size):
        parser.error(f'--size {args.size}: each side must be a multiple of 32')
    device, size = args.device, tuple(args.size)
    hierarchy = build_hierarchy(args.hierarchy)
    torch.manual_seed(0)
    models = {name: build_model(args.depth, hierarchy, name == 'hssn', size).to(device)
              for name in ('ce', 'hssn')}
    optimizers = {n: torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
                  for n, m in models.items()}
    stepper = Stepper(device, args.amp)
    generator = torch.Generator().manual_seed(0)
    data = [batch(hierarchy.num_leaves, generator, size, device) for _ in range(2)]
    peaks = {name: peak_memory(lambda name=name: train_step(models[name], optimizers[name],
                                                            *data[0], stepper), device)
             for name in models}
    times = timed_steps(
        {name: lambda step, name=name: train_step(models[name], optimizers[name],
                                                  *data[step % 2], stepper)
         for name in models}, args.iters, alternate=True)
    ce, hssn = (statistics.median(times[n]) for n in ('ce', 'hssn'))
    ratios = [h / c for h, c in zip(times['hssn'], times['ce'])]
    low, mid, high = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    precision = ('fp16' if torch.device(device).type == 'cuda' else 'bf16') if args.amp \
        else 'fp32'
    print(f'DeepLabV3+ R{args.depth}, {size[0]}x{size[1]}, batch 2, hierarchy '
          f'{hierarchy.name} (V={hierarchy.num_nodes}), device {device}, {precision}, '
          f'{torch.get_num_threads()} threads, median of {args.iters} iterations')
    print('(a) training iteration')
    fastest = {n: min(times[n]) for n in times}
    print(f'  softmax CE          : {ce:.3f} s/iter (fastest {fastest["ce"]:.3f})')
    print(f'  HSSN (FTM + TT)     : {hssn:.3f} s/iter (fastest {fastest["hssn"]:.3f})')
    print(f'  HSSN / CE           : {hssn / ce:.3f} (+{100 * (hssn / ce - 1):.1f}%); fastest / '
          f'fastest {fastest["hssn"] / fastest["ce"]:.3f}; per-step ratios: median '
          f'{statistics.median(ratios):.3f}, quartiles {low:.3f} .. {high:.3f}')
    if peaks['ce'] is not None:
        print(f'  peak GPU memory     : CE {peaks["ce"] / 2**30:.2f} GiB, HSSN '
              f'{peaks["hssn"] / 2**30:.2f} GiB')
    losses = time_losses(models, data[0][1], hierarchy, args.iters, size, device)
    print('(b) decode-head losses alone, forward + backward')
    print(f'  CE + accuracy       : {1000 * losses["ce"]:.1f} ms')
    print(f'  FTM + TT + accuracy : {1000 * losses["hssn"]:.1f} ms')
    print(f'  difference          : {1000 * (losses["hssn"] - losses["ce"]):.1f} ms = '
          f'{100 * (losses["hssn"] - losses["ce"]) / ce:.1f}% of the CE iteration')
    alone = time_tree_min(models, data[0][1], args.iters, device)
    print('(c) the loss functions alone on logits at label resolution, forward + backward')
    print(f'  softmax CE          : {1000 * alone["ce"]:.1f} ms')
    print(f'  focal tree-min      : {1000 * alone["hssn"]:.1f} ms')
    if args.json:
        figures = dict(depth=args.depth, size=list(size), device=device, precision=precision,
                       iters=args.iters, hierarchy=hierarchy.name,
                       iter_s=dict(ce=ce, hssn=hssn), ratio=hssn / ce,
                       peak_gpu_bytes=peaks if peaks['ce'] is not None else None,
                       head_losses_s=losses, losses_alone_s=alone)
        with open(args.json, 'w') as f:
            json.dump(figures, f, indent=1)


if __name__ == '__main__':
    main()

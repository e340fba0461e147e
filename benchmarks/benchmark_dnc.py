"""What DNC's clustering costs, in time and memory.

(a) One clustering step at ImageNet scale (C classes, K sub-centroids, D-d features, a
    memory of M features per class): the whole step of ``cluster_sub_centroids``
    (similarities, batched Sinkhorn, hard assignment, momentum update) against its floor,
    the similarity matrix product alone (one batched product over the memory), and against
    a per-class Python loop over features already grouped by class. The loop must give the
    same assignments.
(b) One training iteration (forward, backward, SGD step, and for DNC the clustering hook
    with a full memory) of ResNet-50 with ``DNCClsHead`` against the same model with
    mmpretrain's ``LinearClsHead``, timed in alternation (a change of machine load hits
    both) and compared by their medians.
(c) The memory's footprint in bytes against the paper's list of fp32 batches
    (26.35 GB per GPU at K = 4 and 1000 batches of 256).

    python benchmarks/benchmark_dnc.py [--classes 1000] [--k 4] [--dim 2048]
        [--per-class 256] [--features clustered|random] [--repeats 5] [--batch-size 32]
        [--iters 5] [--threads N] [--skip-train] [--skip-clustering] [--skip-footprint]
        [--device cpu|cuda] [--json PATH]

On CUDA the timings synchronise the device and (a) and (b) report peak GPU memory.
"""
import argparse
import json
import os
import statistics
import time
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope

import hieraseg  # noqa: F401
from hieraseg.engine.hooks import SinkhornClusteringHook
from hieraseg.models.utils import FeatureMemory, cluster_memory, cluster_sub_centroids

PAPER_MEMORY_BYTES = 26.35e9  # DNC paper: K = 4, 1000 batches of 256, per GPU


def synthetic_features(labels, centres, kind, generator):
    """Unit features ``[N, D]`` for ``labels [N]``: ``'clustered'`` ones lie around one
    of their class's K centres (cosine about 0.6, as trained features do), ``'random'``
    ones have no structure (the worst case: their assignments flip at every step)."""
    n, dim = labels.numel(), centres.shape[-1]
    noise = torch.randn(n, dim, generator=generator) / dim**0.5
    if kind == 'random':
        return F.normalize(noise, dim=-1)
    which = torch.randint(0, centres.shape[1], (n, ), generator=generator)
    return F.normalize(centres[labels, which] + 1.33 * noise, dim=-1)


DEVICE = 'cpu'  # set by --device


def sync():
    if torch.device(DEVICE).type == 'cuda':
        torch.cuda.synchronize(DEVICE)


def clock() -> float:
    """``time.perf_counter()`` after the device's pending work."""
    sync()
    return time.perf_counter()


def reset_peak():
    if torch.device(DEVICE).type == 'cuda':
        sync()
        torch.cuda.reset_peak_memory_stats(DEVICE)


def peak_bytes():
    """Peak GPU memory since :func:`reset_peak`; None on the CPU."""
    if torch.device(DEVICE).type != 'cuda':
        return None
    sync()
    return torch.cuda.max_memory_allocated(DEVICE)


def timed(fn, repeats):
    """Median wall time of ``fn()`` over ``repeats`` runs (after one warm-up run)."""
    fn()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def loop_sinkhorn(sim, epsilon, iters):
    """The paper's Sinkhorn for one class, sim [N, K] -> Q [N, K] (rows sum to 1)."""
    n, k = sim.shape
    q = torch.exp((sim - sim.max()) / epsilon).t()
    q /= q.sum()
    for _ in range(iters):
        q /= q.sum(dim=1, keepdim=True)
        q /= k
        q /= q.sum(dim=0, keepdim=True)
        q /= n
    return (q * n).t()


def loop_clustering(centroids, grouped, correct, momentum, epsilon, iters):
    """Per-class Python loop over features grouped by class (list of [N_c, D])."""
    new = centroids.clone()
    assignments = []
    k = centroids.shape[1]
    for c, feats in enumerate(grouped):
        sims = feats @ centroids[c].t()
        assign = loop_sinkhorn(sims, epsilon, iters).argmax(1)
        assignments.append(assign)
        onehot = F.one_hot(assign, k).to(feats.dtype) * correct[c].unsqueeze(1)
        sums = onehot.t() @ feats
        moved = onehot.sum(0) > 0
        target = F.normalize(sums, dim=1)
        new[c, moved] = F.normalize(momentum * centroids[c, moved] +
                                    (1 - momentum) * target[moved], dim=1)
    return new, assignments


def bench_clustering(args):
    c, k, d, m = args.classes, args.k, args.dim, args.per_class
    print(f'(a) clustering step: C={c} classes, K={k}, D={d}, {m} features per class '
          f'({c * m} in all, {args.features}), float32, {torch.get_num_threads()} threads, '
          f'medians of {args.repeats}')
    g = torch.Generator().manual_seed(0)
    centres = F.normalize(torch.randn(c, k, d, generator=g), dim=-1)
    memory = FeatureMemory(c, m, d, num_sub_centroids=k).to(DEVICE)
    labels = torch.arange(c).repeat_interleave(m)
    memory.enqueue(synthetic_features(labels, centres, args.features, g).to(DEVICE),
                   labels.to(DEVICE), (torch.rand(c * m, generator=g) < 0.8).to(DEVICE))
    centroids = F.normalize(torch.randn(c, k, d, generator=g), dim=-1).to(DEVICE)

    # The same product the step computes: [C, K, D] x [C, D, M] -> [C, K, M].
    reset_peak()
    floor = timed(lambda: torch.bmm(centroids, memory.features.transpose(1, 2)), args.repeats)
    floor_peak = peak_bytes()
    reset_peak()
    full = timed(lambda: cluster_sub_centroids(centroids, memory.features, memory.valid,
                                               memory.correct, 0.999, 0.05, 3), args.repeats)
    full_peak = peak_bytes()
    cold_start = clock()
    state = {'centroids': cluster_memory(centroids, memory, 0.999, 0.05, 3).centroids}
    cold = clock() - cold_start

    batch_labels = torch.randint(0, c, (args.repeats + 2, 256), generator=g)
    batch_feats = torch.stack([synthetic_features(y, centres, args.features, g)
                               for y in batch_labels]).to(DEVICE)
    batch_labels = batch_labels.to(DEVICE)
    calls = iter(range(10**9))

    def enqueue():
        i = next(calls) % batch_feats.shape[0]
        memory.enqueue(batch_feats[i], batch_labels[i],
                       (torch.rand(256, generator=g) < 0.8).to(DEVICE))

    def steady():
        state['centroids'] = cluster_memory(state['centroids'], memory, 0.999, 0.05,
                                            3).centroids

    enq_times, steady_times = [], []
    reset_peak()
    for _ in range(args.repeats + 1):
        start = clock()
        enqueue()
        mid = clock()
        steady()
        enq_times.append(mid - start)
        steady_times.append(clock() - mid)
    steady_peak = peak_bytes()
    enq = statistics.median(enq_times[1:])
    step = statistics.median(steady_times[1:])

    # Same assignments as the loop, on the memory as it stands (after one more batch).
    enqueue()
    grouped = list(memory.features.unbind(0))  # views: already grouped by class
    correct = list(memory.correct.float().unbind(0))
    before = state['centroids']
    loop_start = clock()
    loop_new, loop_assign = loop_clustering(before, grouped, correct, 0.999, 0.05, 3)
    loop = clock() - loop_start
    result = cluster_memory(before, memory, 0.999, 0.05, 3)
    same = torch.equal(result.assignments, torch.stack(loop_assign))
    max_diff = float((result.centroids - loop_new).abs().max())
    print(f'    similarity product alone (floor):        {floor * 1e3:9.1f} ms')
    print(f'    clustering step, steady state (hook):    {step * 1e3:9.1f} ms   '
          f'= {step / floor:.2f} x floor   (+ enqueue of a batch of 256: '
          f'{enq * 1e3:.1f} ms)')
    print(f'    clustering step, first (all sums built): {cold * 1e3:9.1f} ms   '
          f'= {cold / floor:.2f} x floor')
    print(f'    stateless step (sums re-read each time): {full * 1e3:9.1f} ms   '
          f'= {full / floor:.2f} x floor')
    print(f'    per-class Python loop (one run):         {loop * 1e3:9.1f} ms   '
          f'= {loop / step:.1f} x the steady step, {loop / full:.1f} x the stateless one')
    print(f'    same assignments as the loop: {same}; max centroid difference '
          f'{max_diff:.1e}')
    peaks = dict(floor=floor_peak, stateless=full_peak, steady=steady_peak)
    if floor_peak is not None:
        listed = ', '.join(f'{name} {value / 2**30:.2f} GiB' for name, value in peaks.items())
        print(f'    peak GPU memory: {listed}')
    return dict(floor=floor, step=step, cold=cold, full=full, loop=loop, same=same,
                enqueue=enq, peak_gpu_bytes=peaks if floor_peak is not None else None)


def build_classifier(config, dnc):
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(config)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model).to(DEVICE)  # default init: timing does not care
    hook = None
    if dnc:
        hook_cfg = dict(cfg.custom_hooks[0])
        hook_cfg.pop('type')
        hook = SinkhornClusteringHook(**hook_cfg)
    return model.train(), hook


def bench_training(args):
    from mmpretrain.structures import DataSample
    b, size = args.batch_size, args.image_size
    print(f'(b) one training iteration, ResNet-50, batch {b} of {size}x{size}, '
          f'{torch.get_num_threads()} threads; medians of {args.iters} alternating runs')
    linear, _ = build_classifier('configs/dnc/resnet50_8xb32_in1k.py', dnc=False)
    dnc, hook = build_classifier('configs/dnc/dnc_resnet50_8xb32_in1k.py', dnc=True)
    runner = SimpleNamespace(model=dnc, iter=0, message_hub=MessageHub.get_instance('bench'))
    hook.before_train(runner)
    # Steady state: a full memory (what ImageNet training reaches after ~1000 iterations).
    memory = hook.memories['head.classifier']
    g = torch.Generator().manual_seed(0)
    centres = F.normalize(torch.randn(memory.num_classes, 4, 2048, generator=g), dim=-1)
    labels = torch.arange(memory.num_classes).repeat_interleave(memory.capacity)
    memory.enqueue(synthetic_features(labels, centres, args.features, g).to(DEVICE),
                   labels.to(DEVICE), (torch.rand(labels.numel(), generator=g) < 0.8).to(DEVICE))
    print(f'    DNC head: K={dnc.head.classifier.num_sub_centroids}, memory '
          f'{memory.capacity} per class x {memory.num_classes} classes, clustering every '
          f'{hook.interval} iteration(s)')

    inputs = torch.randn(b, 3, size, size, generator=g).to(DEVICE)
    labels = torch.randint(0, 1000, (b, ), generator=g)
    samples = [DataSample().set_gt_label(int(y)).to(DEVICE) for y in labels]
    optims = {id(m): torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
              for m in (linear, dnc)}

    hook_times = []

    def iteration(model, with_hook):
        losses = model(inputs, samples, mode='loss')
        loss = sum(v for k, v in losses.items() if 'loss' in k)
        optim = optims[id(model)]
        optim.zero_grad()
        loss.backward()
        optim.step()
        if with_hook:
            start = clock()
            hook.after_train_iter(runner, runner.iter)
            hook_times.append(clock() - start)
            runner.iter += 1

    peaks = {}
    for name, model in (('linear', linear), ('dnc', dnc)):
        reset_peak()
        iteration(model, name == 'dnc')
        peaks[name] = peak_bytes()
    hook_times.clear()
    times = {'linear': [], 'dnc': []}
    for _ in range(args.iters):
        for name, model in (('linear', linear), ('dnc', dnc)):
            start = clock()
            iteration(model, name == 'dnc')
            times[name].append(clock() - start)
    lin, dn = statistics.median(times['linear']), statistics.median(times['dnc'])
    lin_min, dn_min = min(times['linear']), min(times['dnc'])
    hk = statistics.median(hook_times)
    for label, key in (('LinearClsHead:    ', 'linear'), ('DNCClsHead + hook:', 'dnc')):
        print(f'    {label} median {statistics.median(times[key]):7.3f} s/iter, fastest '
              f'{min(times[key]):7.3f}  (runs: ' + ', '.join(f'{t:.2f}' for t in times[key])
              + ')')
    print(f'    DNC vs linear: {100 * (dn / lin - 1):+.1f} % (medians), '
          f'{100 * (dn_min / lin_min - 1):+.1f} % (fastest runs)')
    print(f'    of which the hook (gather, enqueue, clustering of the full memory): median '
          f'{hk * 1e3:.1f} ms = {100 * hk / lin:.1f} % of a linear-head iteration')
    if peaks['linear'] is not None:
        print(f'    peak GPU memory: linear {peaks["linear"] / 2**30:.2f} GiB, DNC + hook '
              f'{peaks["dnc"] / 2**30:.2f} GiB')
    return dict(linear=lin, dnc=dn, hook=hk,
                peak_gpu_bytes=peaks if peaks['linear'] is not None else None)


def bench_memory(args):
    k, c, m, d = 4, 1000, 256, 2048
    print(f'(c) memory footprint at the paper\'s setting: {c} classes, {m} features per '
          f'class (= 1000 batches of 256), D={d}, K={k}')
    out = {}
    for dtype in ('float32', 'float16'):
        memory = FeatureMemory(c, m, d, dtype=dtype, num_sub_centroids=k)
        size = memory.nbytes()
        out[dtype] = size
        print(f'    FeatureMemory {dtype} (features + flags + clustering state): '
              f'{size / 1e9:.3f} GB; the paper\'s 26.35 GB is '
              f'{PAPER_MEMORY_BYTES / size:.1f} x that')
        del memory
    raw = 1000 * 256 * d * 4
    print(f'    (1000 fp32 batches of 256 x {d} hold {raw / 1e9:.3f} GB of numbers)')
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--classes', type=int, default=1000)
    parser.add_argument('--k', type=int, default=4)
    parser.add_argument('--dim', type=int, default=2048)
    parser.add_argument('--per-class', type=int, default=256)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--image-size', type=int, default=224)
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--features', choices=['clustered', 'random'], default='clustered',
                        help='synthetic memory content (see synthetic_features)')
    parser.add_argument('--skip-train', action='store_true', help='skip (b)')
    parser.add_argument('--skip-clustering', action='store_true', help='skip (a) and (c)')
    parser.add_argument('--skip-footprint', action='store_true',
                        help='skip (c) (it allocates the paper-size memory, ~2 GB)')
    parser.add_argument('--device', default='cpu', help="'cpu' (default) or 'cuda[:i]'")
    parser.add_argument('--json', help='also write the figures to this JSON file')
    args = parser.parse_args()
    if torch.device(args.device).type == 'cuda' and not torch.cuda.is_available():
        parser.error(f'--device {args.device}: torch sees no CUDA device')
    global DEVICE
    DEVICE = args.device
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_grad_enabled(True)
    print(f'torch {torch.__version__}, device {DEVICE}, {torch.get_num_threads()} threads')
    print(f'load average at start: {os.getloadavg()}')
    figures = dict(device=DEVICE, classes=args.classes, k=args.k, dim=args.dim,
                   per_class=args.per_class, features=args.features)
    if not args.skip_clustering:
        with torch.no_grad():
            figures['clustering_s'] = bench_clustering(args)
        if not args.skip_footprint:
            figures['footprint_bytes'] = bench_memory(args)
    if not args.skip_train:
        figures['training_s'] = bench_training(args)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(figures, f, indent=1)


if __name__ == '__main__':
    main()

"""Device comparisons: each check computes the same thing from the same seeded inputs on a
device and on the CPU (float32 reference) and asserts they agree.

``tests/test_cuda`` runs them with ``device='cuda'`` (``pytest -m cuda``, skipped without
CUDA); ``tests/test_models/test_device_checks_cpu.py`` runs them with ``device='cpu'`` so
that the comparison code itself is exercised on machines without a GPU.

``precision`` is ``'fp32'``, ``'fp16'`` or ``'bf16'``: the latter two run the device side
under ``torch.autocast`` of that dtype (the reference stays float32), with looser
tolerances.
"""
import os.path as osp
from typing import Callable, Dict

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from hieraseg.hierarchy import build_hierarchy
from hieraseg.models.losses import TreeMinLoss, TreeTripletLoss
from hieraseg.models.utils import (FeatureMemory, HieraSubCentroidClassifier,
                                   SubCentroidClassifier, batched_sinkhorn, cluster_memory,
                                   cluster_sub_centroids, leaf_path_scores)
from hieraseg.models.utils.upsampled_classification import classify_upsampled
from hieraseg.utils import adapt_cfg_to_device

DTYPES = {'fp32': torch.float32, 'fp16': torch.float16, 'bf16': torch.bfloat16}
# (rtol, atol) of a device result against the float32 CPU reference
TOLERANCE = {'fp32': (1e-4, 1e-5), 'fp16': (2e-2, 2e-3), 'bf16': (5e-2, 5e-2)}


def autocast(device: str, precision: str):
    """Autocast of ``precision`` on ``device`` (disabled for fp32)."""
    return torch.autocast(device_type=torch.device(device).type, dtype=DTYPES[precision],
                          enabled=precision != 'fp32')


def assert_close(actual: torch.Tensor, expected: torch.Tensor, precision: str, what: str):
    rtol, atol = TOLERANCE[precision]
    torch.testing.assert_close(actual.detach().float().cpu(), expected.detach().float().cpu(),
                               rtol=rtol, atol=atol, msg=lambda m: f'{what} ({precision}): {m}')


def _hssn_batch(hierarchy, seed=0, batch=2, size=(12, 16), embed=8):
    gen = torch.Generator().manual_seed(seed)
    features = torch.randn(batch, embed, *size, generator=gen)
    labels = torch.randint(0, hierarchy.num_leaves, (batch, ) + size, generator=gen)
    labels[0, :2, :3] = 255
    conv = torch.nn.Conv2d(embed, hierarchy.num_nodes, 1)
    torch.nn.init.normal_(conv.weight, std=0.5, generator=gen)
    torch.nn.init.normal_(conv.bias, std=0.5, generator=gen)
    return features, labels, conv


def tree_min_on(device: str, precision: str, gamma: float = 2.0, seed: int = 0):
    """Loss, d loss / d conv weight and d loss / d input of a 1x1 conv + tree-min loss."""
    hierarchy = build_hierarchy('cityscapes')
    features, labels, conv = _hssn_batch(hierarchy, seed)
    conv = conv.to(device)
    features = features.to(device).requires_grad_()
    loss_fn = TreeMinLoss(hierarchy, gamma=gamma).to(device)
    with autocast(device, precision):
        logits = conv(features)
        loss = loss_fn(logits, labels.to(device))
    loss.backward()
    assert loss.dtype == torch.float32, loss.dtype
    assert features.grad.dtype == torch.float32
    return dict(loss=loss, weight_grad=conv.weight.grad, input_grad=features.grad)


def tree_triplet_on(device: str, precision: str, seed: int = 0):
    """Loss and embedding gradient of the tree-triplet loss on a 1x1 conv's embeddings."""
    hierarchy = build_hierarchy('cityscapes')
    features, labels, conv = _hssn_batch(hierarchy, seed, embed=16)
    conv = torch.nn.Conv2d(16, 16, 1)
    gen = torch.Generator().manual_seed(seed + 1)
    torch.nn.init.normal_(conv.weight, generator=gen)
    torch.nn.init.normal_(conv.bias, generator=gen)
    conv = conv.to(device)
    features = features.to(device).requires_grad_()
    loss_fn = TreeTripletLoss(hierarchy, ramp=None, max_triplets_per_class=50).to(device)
    with autocast(device, precision):
        embeddings = torch.nn.functional.normalize(conv(features), dim=1)
        loss = loss_fn(embeddings, labels.to(device))
    loss.backward()
    assert loss.dtype == torch.float32, loss.dtype
    return dict(loss=loss, input_grad=features.grad)


def path_scores_on(device: str, precision: str, seed: int = 0):
    """Path scores of every mode and the predicted leaf (from 'sum')."""
    hierarchy = build_hierarchy('cityscapes')
    gen = torch.Generator().manual_seed(seed)
    logits = (3 * torch.randn(2, hierarchy.num_nodes, 8, 8, generator=gen)).to(device)
    if precision != 'fp32':
        logits = logits.to(DTYPES[precision])
    leaf_to_node = hierarchy.leaf_to_node.to(device)
    out = {}
    with autocast(device, precision):
        for mode in ('sum', 'min', 'log'):
            out[mode] = leaf_path_scores(logits, leaf_to_node, mode)
            assert out[mode].dtype == torch.float32, (mode, out[mode].dtype)
    return out


def sinkhorn_on(device: str, precision: str, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    sim = torch.nn.functional.normalize(torch.randn(5, 40, 4, generator=gen), dim=-1)
    mask = torch.rand(5, 40, generator=gen) > 0.2
    mask[3] = False
    sim = sim.to(device)
    if precision != 'fp32':
        sim = sim.to(DTYPES[precision])
    with autocast(device, precision):
        q = batched_sinkhorn(sim, mask.to(device), epsilon=0.05, iters=3)
    assert q.dtype == torch.float32
    return dict(q=q)


def _unit(shape, gen):
    return torch.nn.functional.normalize(torch.randn(*shape, generator=gen), dim=-1)


def sub_centroid_on(device: str, precision: str, seed: int = 0):
    """SubCentroidClassifier forward (logits, similarities) and one momentum update."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    classifier = SubCentroidClassifier(num_classes=6, num_sub_centroids=3, feat_dim=16)
    classifier = classifier.to(device)
    features = _unit((50, 16), gen).to(device)
    with autocast(device, precision):
        logits, sims = classifier(features, return_similarities=True)
    grouped = _unit((6, 30, 16), gen).to(device)
    valid = (torch.rand(6, 30, generator=gen) > 0.3).to(device)
    result = cluster_sub_centroids(_unit((6, 3, 16), gen).to(device), grouped, valid,
                                   momentum=0.9)
    return dict(logits=logits, sims=sims, centroids=result.centroids,
                counts=result.counts.float())


def feature_memory_on(device: str, precision: str, seed: int = 0):
    """FeatureMemory enqueue (two rounds, wrapping around) and clustering from it."""
    gen = torch.Generator().manual_seed(seed)
    memory = FeatureMemory(num_classes=4, capacity=16, feat_dim=8, num_sub_centroids=3)
    memory = memory.to(device)
    for _ in range(2):
        feats = _unit((30, 8), gen).to(device)
        labels = torch.randint(0, 4, (30, ), generator=gen).to(device)
        memory.enqueue(feats, labels)
    result = cluster_memory(_unit((4, 3, 8), gen).to(device), memory, momentum=0.9)
    return dict(features=memory.features.float(), valid=memory.valid.float(),
                centroids=result.centroids, counts=result.counts.float())


def lean_classification_on(device: str, precision: str, lean: bool, seed: int = 0):
    """Classification of upsampled embeddings (hierarchical classifier, 1x1 conv embeddings
    7x9 -> 53x67; lean: several chunks): logits, d/d conv weight (through the embeddings)
    and d/d the per-level LayerNorm scales."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    classifier = HieraSubCentroidClassifier('cityscapes', 3, 8).to(device)
    conv = torch.nn.Conv2d(8, 8, 1)
    torch.nn.init.normal_(conv.weight, generator=gen)
    conv = conv.to(device)
    features = torch.randn(2, 8, 7, 9, generator=gen).to(device)
    grad_out = torch.randn(2, 53, 67, classifier.num_classes, generator=gen).to(device)
    with autocast(device, precision):
        logits = classify_upsampled(classifier, conv(features), (53, 67), lean=lean,
                                    chunk_pixels=2000)
    (logits.float() * grad_out).sum().backward()
    return dict(logits=logits, conv_weight_grad=conv.weight.grad,
                level_scale_grad=torch.cat([n.log_weight.grad for n in classifier.norm]))


def compare_lean_classification(device: str, precision: str):
    """The lean path on ``device`` at ``precision`` against the one-piece reference there:
    the logits to the precision's tolerance (autocast restored in the recomputation); the
    conv weight gradient, a sum over every pixel, in fp32 to its tolerance, under autocast
    no further (relative norm error) from the fp32 gradient than the reference's. In fp32
    every output also against the CPU reference."""
    lean = lean_classification_on(device, precision, lean=True)
    ref = lean_classification_on(device, precision, lean=False)
    assert lean['logits'].dtype == ref['logits'].dtype
    assert_close(lean['logits'], ref['logits'], precision, f'lean vs reference logits on {device}')
    if precision == 'fp32':
        assert_close(lean['conv_weight_grad'], ref['conv_weight_grad'], precision,
                     f'lean vs reference conv_weight_grad on {device}')
        cpu = lean_classification_on('cpu', 'fp32', lean=False)
        for key in cpu:
            assert_close(lean[key], cpu[key], precision, f'lean on {device} vs CPU {key}')
    else:
        exact = lean_classification_on(device, 'fp32', lean=False)['conv_weight_grad'].double()
        lean_error, ref_error = (
            ((r['conv_weight_grad'].double() - exact).norm() / exact.norm()).item()
            for r in (lean, ref))
        assert lean_error <= max(1.5 * ref_error, 1e-3), (
            f'lean conv_weight_grad on {device} ({precision}): relative error {lean_error:.2e} '
            f'against fp32, the reference {ref_error:.2e}')
    return lean


TOY_CONFIGS = {
    'hssn': 'configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
    'dnc': 'configs/dnc/dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
}


def toy_cfg(kind: str, repo: str = '.') -> Config:
    """The toy config of ``kind`` with plain BN (one process, no process group, on any
    device)."""
    cfg = Config.fromfile(osp.join(repo, TOY_CONFIGS[kind]))
    adapt_cfg_to_device(cfg)
    for part in ('backbone', 'decode_head', 'auxiliary_head'):
        if cfg.model.get(part) and cfg.model[part].get('norm_cfg'):
            cfg.model[part].norm_cfg = dict(type='BN', requires_grad=True)
    return cfg


def toy_train_step_on(device: str, precision: str, kind: str = 'hssn', seed: int = 0,
                      repo: str = '.'):
    """One forward + backward of the toy model (``kind``: 'hssn' or 'dnc') on random
    images, under autocast of ``precision``; returns the losses and the head's gradient."""
    cfg = toy_cfg(kind, repo)
    with DefaultScope.overwrite_default_scope('mmseg'):
        torch.manual_seed(seed)
        model = MODELS.build(cfg.model)
    model = model.to(device).train()
    num_leaves = model.decode_head.num_classes if kind == 'dnc' else \
        model.decode_head.hierarchy.num_leaves
    gen = torch.Generator().manual_seed(seed)
    images = torch.rand(2, 3, 64, 64, generator=gen).to(device)
    samples = []
    for _ in range(2):
        labels = torch.randint(0, num_leaves, (1, 64, 64), generator=gen)
        sample = SegDataSample(gt_sem_seg=PixelData(data=labels.to(device)))
        sample.set_metainfo(dict(img_shape=(64, 64), ori_shape=(64, 64), pad_shape=(64, 64)))
        samples.append(sample)
    with autocast(device, precision):
        losses = model(images, samples, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    grads = [p.grad for p in model.decode_head.parameters() if p.grad is not None]
    assert grads, 'no gradient reached the head'
    out = {k: v.detach().float() for k, v in losses.items() if 'loss' in k}
    out['head_grad_norm'] = torch.stack([g.float().norm() for g in grads]).norm()
    return out


CHECKS: Dict[str, Callable] = {
    'tree_min': tree_min_on,
    'tree_triplet': tree_triplet_on,
    'path_scores': path_scores_on,
    'sinkhorn': sinkhorn_on,
    'sub_centroid': sub_centroid_on,
    'feature_memory': feature_memory_on,
}


def compare(check: str, device: str, precision: str, **kwargs):
    """Runs ``check`` on ``device`` at ``precision`` and on the CPU at fp32; asserts
    every output agrees. Returns the device outputs."""
    fn = CHECKS[check]
    got = fn(device, precision, **kwargs)
    want = fn('cpu', 'fp32', **kwargs)
    assert got.keys() == want.keys(), (got.keys(), want.keys())
    for key in want:
        assert torch.isfinite(got[key].float()).all(), f'{check}.{key}: non-finite'
        assert_close(got[key], want[key], precision, f'{check}.{key} on {device}')
    return got


def compare_toy_step(kind: str, device: str, precision: str, repo: str = '.'):
    """The toy step on ``device`` at ``precision`` against fp32 on the CPU: the same losses
    (within mixed-precision tolerance) and a finite head gradient of similar norm."""
    got = toy_train_step_on(device, precision, kind, repo=repo)
    want = toy_train_step_on('cpu', 'fp32', kind, repo=repo)
    for key in want:
        assert torch.isfinite(got[key]).all(), f'{kind} step: {key} is not finite'
    rtol = 1e-3 if precision == 'fp32' else 0.1
    for key in want:
        torch.testing.assert_close(got[key].cpu(), want[key].cpu(), rtol=rtol, atol=1e-3,
                                   msg=lambda m: f'{kind} step {key} ({precision}): {m}')
    return got


def sinkhorn_hook_run(device: str, backend=None, steps: int = 4, rendezvous: str = None):
    """A few steps of a tiny DNC model with the SinkhornClusteringHook on ``device``;
    with ``backend`` ('nccl' on CUDA, 'gloo' on the CPU) inside a 1-process group and
    DistributedDataParallel, so that the hook's collectives run. Returns the final
    centroids and memory."""
    from datetime import timedelta
    from types import SimpleNamespace

    import torch.distributed as dist
    import torch.nn.functional as F
    from mmengine.logging import MessageHub

    from hieraseg.engine.hooks import SinkhornClusteringHook

    torch.manual_seed(0)
    embed = torch.nn.Linear(8, 8)
    classifier = SubCentroidClassifier(4, 2, 8)
    model = torch.nn.ModuleDict(dict(embed=embed, classifier=classifier)).to(device)
    if backend is not None:
        dist.init_process_group(backend, init_method=f'file://{rendezvous}', rank=0,
                                world_size=1, timeout=timedelta(seconds=60))
    try:
        wrapped = model
        if backend is not None:
            device_ids = [torch.device(device).index or 0] if backend == 'nccl' else None
            wrapped = torch.nn.parallel.DistributedDataParallel(
                model, device_ids=device_ids, broadcast_buffers=False)
        hook = SinkhornClusteringHook(memory_size=16, momentum=0.8)
        runner = SimpleNamespace(model=wrapped, iter=0,
                                 message_hub=MessageHub.get_instance(f'hook_check_{backend}'))
        hook.before_train(runner)
        gen = torch.Generator().manual_seed(1)
        for step in range(steps):
            x = torch.randn(12, 8, generator=gen).to(device)
            labels = torch.randint(0, 4, (12, ), generator=gen).to(device)
            features = model['embed'](x)
            F.cross_entropy(classifier(features), labels).backward()
            classifier.keep_for_clustering(features, labels)
            runner.iter = step
            hook.after_train_iter(runner, step)
        memory = hook.memories['classifier']
        out = dict(centroids=classifier.centroids.detach().clone(),
                   features=memory.features.float().clone(), count=memory.count.float())
        del wrapped
    finally:
        if backend is not None:
            dist.destroy_process_group()
    return out


def compare_hook(device: str, backend: str, rendezvous: str):
    """The hook in a 1-process ``backend`` group against the same run without one."""
    got = sinkhorn_hook_run(device, backend, rendezvous=rendezvous)
    want = sinkhorn_hook_run(device, None)
    for key in want:
        assert torch.isfinite(got[key]).all(), f'hook {key}: non-finite'
        assert_close(got[key], want[key], 'fp32', f'hook {key} with {backend} on {device}')
    return got


def toy_train_step_with_wrapper(kind: str, device: str, amp: bool, repo: str = '.',
                                steps: int = 2):
    """``steps`` calls of the toy model's ``train_step`` through mmengine's optimizer
    wrapper (``AmpOptimWrapper`` with ``amp``: the ``--amp`` path, CUDA only), on
    uint8 images through the data preprocessor. Returns the last log vars."""
    from mmengine.optim import AmpOptimWrapper, OptimWrapper
    cfg = toy_cfg(kind, repo)
    with DefaultScope.overwrite_default_scope('mmseg'):
        torch.manual_seed(0)
        model = MODELS.build(cfg.model).to(device).train()
    gen = torch.Generator().manual_seed(0)
    samples = []
    for _ in range(2):
        sample = SegDataSample(gt_sem_seg=PixelData(
            data=torch.randint(0, 3, (1, 64, 64), generator=gen)))
        sample.set_metainfo(dict(img_shape=(64, 64), ori_shape=(64, 64)))
        samples.append(sample)
    data = dict(inputs=[torch.randint(0, 255, (3, 64, 64), generator=gen, dtype=torch.uint8)
                        for _ in range(2)], data_samples=samples)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    wrapper = AmpOptimWrapper(optimizer=optimizer) if amp else OptimWrapper(optimizer)
    before = [p.detach().clone() for p in model.decode_head.parameters()]
    for _ in range(steps):
        log_vars = model.train_step(data, wrapper)
    assert all(torch.isfinite(torch.as_tensor(v)).all() for v in log_vars.values()), log_vars
    after = list(model.decode_head.parameters())
    assert any(not torch.equal(b, a.detach()) for b, a in zip(before, after)), \
        f'{kind}: the optimizer step did not change the head'
    return log_vars

"""DNC against a linear head on scikit-learn's handwritten digits, as a markdown table.

    python experiments/dnc_digits.py [--heads linear dnc dnc_no_feat_norm dnc_before_issue10]
        [--seeds 0 1 2] [--iters 400] [--size 8] [--data-root DIR] [--work-dir DIR]

The 1797 digit images (8x8, 17 grey levels, 10 classes) ship inside scikit-learn, so
nothing is downloaded. :func:`write_digits` writes them as PNG folders (a fixed stratified
split: 1200 train, 597 val); :func:`digits_cfg` is an mmpretrain ``ImageClassifier``
(CIFAR-style ResNet-18 at width 16, global average pooling, so the pooled features are
non-negative) with either a linear head or a ``DNCClsHead`` + the ``SinkhornClusteringHook``,
trained through mmengine's Runner; :func:`run_digits` trains one and returns top-1 and
per-class recall on the val split. The table gives top-1 per seed, the mean, the lowest
per-class recall and, for DNC, the smallest sub-centroid component (>= 0: every sub-centroid
in the non-negative orthant). Runs use one CPU thread (``run_digits(threads=1)``), as the
recorded figures (the thread count changes results slightly).
``tests/test_experiments/test_dnc_digits.py`` checks it.
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
import time
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
import hieraseg  # noqa: E402,F401  (registers DNCClsHead and the clustering hook)

NUM_CLASSES = 10
NUM_TRAIN = 1200
# name -> (head config, clustering hook config or None)
HEADS = {
    'linear': (dict(type='LinearClsHead', num_classes=NUM_CLASSES, in_channels=128), None),
    'dnc': (dict(type='DNCClsHead', num_classes=NUM_CLASSES, in_channels=128,
                 num_sub_centroids=4),
            dict(type='SinkhornClusteringHook', momentum=0.99, memory_size=200)),
    'dnc_no_feat_norm': (dict(type='DNCClsHead', num_classes=NUM_CLASSES, in_channels=128,
                              num_sub_centroids=4, feat_norm=None),
                         dict(type='SinkhornClusteringHook', momentum=0.99,
                              memory_size=200)),
    # the model and hook as they were before issue 10: no feature LayerNorm, random
    # sub-centroids, no rescue
    'dnc_before_issue10': (dict(type='DNCClsHead', num_classes=NUM_CLASSES,
                                in_channels=128, num_sub_centroids=4, feat_norm=None),
                           dict(type='SinkhornClusteringHook', momentum=0.99,
                                memory_size=200, data_init=False, rescue_after=None)),
}


def write_digits(root: str, size: int = 8) -> str:
    """Write ``root/{train,val}/<digit>/<i>.png`` (grey levels scaled to 0..240, resized
    bilinearly from 8x8 to ``size`` x ``size``); idempotent. Returns ``root``."""
    if not isinstance(size, int) or size < 8:
        raise ValueError(f'size must be an integer >= 8, got {size!r}')
    from PIL import Image
    from sklearn.datasets import load_digits
    done = osp.join(root, '.done')
    if osp.exists(done):
        return root
    digits = load_digits()
    order = np.random.default_rng(0).permutation(len(digits.target))
    # stratified: the first NUM_TRAIN of the permutation, which has every class
    split = np.zeros(len(order), dtype=bool)
    split[order[:NUM_TRAIN]] = True
    for i, (image, label) in enumerate(zip(digits.images, digits.target)):
        folder = osp.join(root, 'train' if split[i] else 'val', str(int(label)))
        os.makedirs(folder, exist_ok=True)
        picture = Image.fromarray((image * 15).astype(np.uint8))
        if size != 8:
            picture = picture.resize((size, size), Image.BILINEAR)
        picture.save(osp.join(folder, f'{i:04d}.png'))
    open(done, 'w').close()
    return root


def digits_cfg(root: str, work_dir: str, head: str = 'dnc', seed: int = 0,
               iters: int = 300, batch_size: int = 32) -> Config:
    """mmpretrain config for one run (constant-then-cosine lr, SGD 0.1)."""
    if head not in HEADS:
        raise ValueError(f'head must be one of {sorted(HEADS)}, got {head!r}')
    head_cfg, hook_cfg = HEADS[head]
    pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]

    def loader(split, shuffle):
        return dict(batch_size=batch_size, num_workers=0,
                    sampler=dict(type='InfiniteSampler' if shuffle else 'DefaultSampler',
                                 shuffle=shuffle),
                    dataset=dict(type='CustomDataset', data_root=osp.join(root, split),
                                 pipeline=pipeline))

    return Config(dict(
        default_scope='mmpretrain',
        custom_imports=dict(imports=['hieraseg'], allow_failed_imports=False),
        work_dir=work_dir,
        randomness=dict(seed=seed),
        model=dict(
            type='ImageClassifier',
            data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=NUM_CLASSES,
                                   mean=[120.0] * 3, std=[100.0] * 3),
            backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=16,
                          base_channels=16, out_indices=(3, )),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(head_cfg, loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
                      topk=(1, ))),
        train_dataloader=loader('train', True),
        train_cfg=dict(by_epoch=False, max_iters=iters, val_interval=10**6),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9,
                                          weight_decay=5e-4)),
        param_scheduler=[dict(type='CosineAnnealingLR', by_epoch=False, begin=iters // 2,
                              end=iters, T_max=iters - iters // 2)],
        custom_hooks=[hook_cfg] if hook_cfg is not None else [],
        default_hooks=dict(logger=dict(type='LoggerHook', interval=50),
                           checkpoint=dict(type='CheckpointHook', interval=10**6)),
        log_processor=dict(by_epoch=False),
        val_loader_for_eval=loader('val', False),
    ))


def run_digits(root: str, work_dir: str, head: str = 'dnc', seed: int = 0,
               iters: int = 300, log_level: str = 'WARNING',
               threads: int = 1) -> Dict[str, object]:
    """Train one model through the Runner on ``threads`` CPU threads (1: the recorded
    figures' setting; the count changes results slightly, and two threads beside another
    job slow a run many times over); returns ``top1`` (percent), ``recall`` (per
    class, percent), ``centroid_min`` (DNC: the smallest sub-centroid component,
    >= 0 means every sub-centroid sits in the non-negative orthant; None otherwise) and
    ``health`` (DNC: the clustering hook's last health scalars and worst-classes line, as
    the message hub holds them for the logger; empty otherwise)."""
    cfg = digits_cfg(root, work_dir, head, seed, iters)
    cfg.log_level = log_level
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _train_and_score(cfg)
    finally:
        torch.set_num_threads(previous)


def _train_and_score(cfg: Config) -> Dict[str, object]:
    """:func:`run_digits` after the set-up."""
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    runner.train()
    model = runner.model
    model.eval()
    loader = Runner.build_dataloader(cfg.val_loader_for_eval)
    hits = torch.zeros(NUM_CLASSES)
    totals = torch.zeros(NUM_CLASSES)
    with torch.no_grad():
        for data in loader:
            for out in model.test_step(data):
                label = int(out.gt_label)
                totals[label] += 1
                hits[label] += float(int(out.pred_label) == label)
    clf: Optional[torch.nn.Module] = getattr(model.head, 'classifier', None)
    hub = runner.message_hub
    health = {key[len('train/'):]: float(hist.current())
              for key, hist in hub.log_scalars.items() if key.startswith('train/dnc_')}
    if 'dnc_worst_classes' in hub.runtime_info:
        health['worst_classes'] = hub.get_info('dnc_worst_classes')
    return dict(
        health=health,
        top1=float(hits.sum() / totals.sum() * 100),
        recall=(hits / totals * 100).tolist(),
        centroid_min=float(clf.centroids.min()) if clf is not None else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--heads', nargs='+', default=list(HEADS), choices=list(HEADS))
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--iters', type=int, default=400)
    parser.add_argument('--size', type=int, default=8, help='image side (8: as shipped)')
    parser.add_argument('--data-root', default=None)
    parser.add_argument('--work-dir', default=None)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix='dnc_digits_')
    root = write_digits(args.data_root or osp.join(tmp, 'digits'), args.size)
    work = args.work_dir or osp.join(tmp, 'work')
    lines = ['| head | top-1 per seed | mean | lowest class recall per seed | '
             'min sub-centroid component |', '|---|---|---|---|---|']
    for head in args.heads:
        results = []
        for seed in args.seeds:
            start = time.time()
            res = run_digits(root, osp.join(work, f'{head}_seed{seed}'), head, seed,
                             args.iters)
            print(f'{head} seed {seed}: top-1 {res["top1"]:.2f}, lowest recall '
                  f'{min(res["recall"]):.1f}, {time.time() - start:.0f} s', flush=True)
            results.append(res)
        top1 = [r['top1'] for r in results]
        per_seed = ' / '.join(f'{t:.2f}' for t in top1)
        lowest = ' / '.join(f'{min(r["recall"]):.1f}' for r in results)
        cmin = [r['centroid_min'] for r in results]
        cmin_text = ' / '.join(f'{c:.3f}' for c in cmin) if cmin[0] is not None else '-'
        lines.append(f'| `{head}` | {per_seed} | {sum(top1) / len(top1):.2f} | {lowest} | '
                     f'{cmin_text} |')
    print('\n'.join(lines))


if __name__ == '__main__':
    main()

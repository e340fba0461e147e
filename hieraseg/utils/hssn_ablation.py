"""The HSSN loss ablation on the toy data set: rows, their configs, and the summary table.

``tools/hssn_ablation.py`` trains every row for several seeds and evaluates each checkpoint
with every decoder of the row on the in-domain and the shifted validation split; this
module says what the rows are and turns the per-run results into markdown.

A result (one row, one seed) is a dict::

    {'row': 'ftm', 'seed': 0, 'iters': 2000, 'train_seconds': 95.1,
     'metrics': {'val': {'sum': {'texture': 81.2, 'colour': 86.0}, ...},
                 'val_shifted': {...}}}
"""
import copy
import statistics
from typing import Dict, List, Sequence

from .ablation_parts import CE, FTM, TM, TT, warmup
from .dnc_ablation_rows import DNC_ROWS, FLAT_DNC_CONFIG

FLAT_CONFIG = 'configs/hssn/fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'
HSSN_CONFIG = 'configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'
# configs whose model predicts leaves only (evaluated with FLAT_DECODER)
FLAT_CONFIGS = (FLAT_CONFIG, FLAT_DNC_CONFIG)
SPLITS = ('val', 'val_shifted')
# the flat model's leaf argmax, its parents read off the leaf (mmseg's own inference)
FLAT_DECODER = 'leaf'
HSSN_DECODERS = ('sum', 'min', 'log')


def _hssn(loss_decode, loss_triplet=None, **head):
    return dict(config=HSSN_CONFIG,
                decode_head=dict(loss_decode=loss_decode, loss_triplet=loss_triplet, **head))


# name -> (label, how to build it). 'decode_head' entries replace the HSSN demo config's.
ROWS: Dict[str, dict] = {
    'cce': dict(label='CCE (flat softmax)', config=FLAT_CONFIG, decode_head={}),
    'bce': dict(label='BCE', **_hssn(dict(type='NodeSigmoidLoss', reduction_mode='node_sum'))),
    'focal': dict(label='Focal', **_hssn(dict(type='NodeSigmoidLoss', gamma=2.0,
                                              reduction_mode='node_sum'))),
    'tm': dict(label='TM', **_hssn(TM)),
    'ftm': dict(label='FTM', **_hssn(FTM)),
    'ftm_tt': dict(label='FTM+TT (paper)', **_hssn(FTM, TT)),
    'ftm_tt_ce': dict(label='FTM+TT+CE', **_hssn([FTM, CE], TT)),
    'ftm_tt_ce_prior': dict(label='FTM+TT+CE, bias prior',
                            **_hssn([FTM, CE], TT, node_bias_prior=True)),
    # the HSSN demo config as shipped: configs/_base_/hssn_recipe.py
    'recipe': dict(label='recipe: 5 FTM+TT+CE', config=HSSN_CONFIG, decode_head={}),
    'ftm_ce': dict(label='FTM+CE', **_hssn([FTM, CE])),
    'hiera_ce': dict(label='CE per level (no tree-min)', **_hssn(CE)),
    # controls: is a gain the hierarchy's, or a larger step's?
    'cce_lr2': dict(label='CCE, lr x2 (control)', config=FLAT_CONFIG, decode_head={},
                    cfg_options={'optim_wrapper.optimizer.lr': 0.1}),
    'recipe_lr2': dict(label='recipe, lr x2', config=HSSN_CONFIG, decode_head={},
                       cfg_options={'optim_wrapper.optimizer.lr': 0.1}),
    'cce_lr4_warmup': dict(label='CCE, lr x4, warm-up (control)', config=FLAT_CONFIG,
                           decode_head={}, cfg_options=warmup(0.2)),
    'recipe_warmup': dict(label='recipe, warm-up', config=HSSN_CONFIG, decode_head={},
                          cfg_options=warmup(0.05)),
    'recipe_lr4_warmup': dict(label='recipe, lr x4, warm-up', config=HSSN_CONFIG,
                              decode_head={}, cfg_options=warmup(0.2)),
    **DNC_ROWS,
}
PAPER_ROWS = ('cce', 'bce', 'focal', 'tm', 'ftm', 'ftm_tt')
DEFAULT_ROWS = PAPER_ROWS + ('recipe', )


def decoders(row: str) -> Sequence[str]:
    """The inference variants a row is evaluated with."""
    return (FLAT_DECODER, ) if ROWS[row]['config'] in FLAT_CONFIGS else HSSN_DECODERS


def apply_row(cfg, row: str, data_root: str, iters: int, seed: int, work_dir: str):
    """Turns a loaded base config into the row's training config, in place."""
    spec = ROWS[row]
    for key, value in spec['decode_head'].items():
        cfg.model.decode_head[key] = copy.deepcopy(value)
    cfg.merge_from_dict(spec.get('cfg_options', {}))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = iters + 1  # evaluated by the tool, not during training
    for scheduler in cfg.param_scheduler:  # a shorter run keeps its schedulers valid
        if scheduler.get('end') is not None:
            scheduler['end'] = min(scheduler['end'], iters)
            scheduler['begin'] = min(scheduler.get('begin', 0), scheduler['end'] - 1)
    cfg.default_hooks.checkpoint.interval = iters
    cfg.default_hooks.logger.interval = max(1, iters // 10)
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    return cfg


def _mean_std(values: List[float]) -> str:
    if len(values) == 1:
        return f'{values[0]:.2f}'
    return f'{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}'


def format_tables(results: List[dict], level_names: Sequence[str]) -> str:
    """Markdown: mean ± std per row x decoder, split and level; then per-seed values."""
    rows = [name for name in ROWS if any(r['row'] == name for r in results)]
    splits = [s for s in SPLITS if all(s in r['metrics'] for r in results)]
    head = ['row', 'inference', 'seeds'] + [
        f'{level} {"in-domain" if split == "val" else "shifted"}'
        for split in splits for level in level_names]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + ' --- |' * len(head)]
    per_seed = ['| row | inference | seed | ' + ' | '.join(head[3:]) + ' |',
                '|' + ' --- |' * (len(head))]
    for name in rows:
        runs = sorted((r for r in results if r['row'] == name), key=lambda r: r['seed'])
        for decoder in decoders(name):
            cells = [ROWS[name]['label'], decoder, str(len(runs))]
            for split in splits:
                for level in level_names:
                    cells.append(_mean_std([r['metrics'][split][decoder][level] for r in runs]))
            lines.append('| ' + ' | '.join(cells) + ' |')
            for run in runs:
                values = [f'{run["metrics"][split][decoder][level]:.2f}'
                          for split in splits for level in level_names]
                per_seed.append(f'| {ROWS[name]["label"]} | {decoder} | {run["seed"]} | '
                                + ' | '.join(values) + ' |')
    return '\n'.join(lines) + '\n\nPer seed:\n\n' + '\n'.join(per_seed) + '\n'

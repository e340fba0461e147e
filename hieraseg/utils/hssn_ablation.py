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

FLAT_CONFIG = 'configs/hssn/fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'
HSSN_CONFIG = 'configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'
DNC_CONFIG = 'configs/dnc/dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'
HIERA_DNC_CONFIG = 'configs/hssn/hiera-dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'
# configs whose model predicts leaves only (evaluated with FLAT_DECODER)
FLAT_CONFIGS = (FLAT_CONFIG, DNC_CONFIG)
SPLITS = ('val', 'val_shifted')
# the flat model's leaf argmax, its parents read off the leaf (mmseg's own inference)
FLAT_DECODER = 'leaf'
HSSN_DECODERS = ('sum', 'min', 'log')

_FTM = dict(type='TreeMinLoss', gamma=2.0, reduction_mode='node_sum')
_TM = dict(_FTM, gamma=0.0)
_TT = dict(type='TreeTripletLoss', loss_weight=0.5, max_triplets_per_class=200)
_CE = dict(type='HieraCrossEntropyLoss')
# configs/_base_/hssn_recipe.py's hssn_loss_decode
_RECIPE = [dict(_FTM, loss_weight=5.0), _CE]


def _hssn(loss_decode, loss_triplet=None, **head):
    return dict(config=HSSN_CONFIG,
                decode_head=dict(loss_decode=loss_decode, loss_triplet=loss_triplet, **head))


# name -> (label, how to build it). 'decode_head' entries replace the HSSN demo config's.
ROWS: Dict[str, dict] = {
    'cce': dict(label='CCE (flat softmax)', config=FLAT_CONFIG, decode_head={}),
    'bce': dict(label='BCE', **_hssn(dict(type='NodeSigmoidLoss', reduction_mode='node_sum'))),
    'focal': dict(label='Focal', **_hssn(dict(type='NodeSigmoidLoss', gamma=2.0,
                                              reduction_mode='node_sum'))),
    'tm': dict(label='TM', **_hssn(_TM)),
    'ftm': dict(label='FTM', **_hssn(_FTM)),
    'ftm_tt': dict(label='FTM+TT (paper)', **_hssn(_FTM, _TT)),
    'ftm_tt_ce': dict(label='FTM+TT+CE', **_hssn([_FTM, _CE], _TT)),
    'ftm_tt_ce_prior': dict(label='FTM+TT+CE, bias prior',
                            **_hssn([_FTM, _CE], _TT, node_bias_prior=True)),
    # the HSSN demo config as shipped: configs/_base_/hssn_recipe.py
    'recipe': dict(label='recipe: 5 FTM+TT+CE', config=HSSN_CONFIG, decode_head={}),
    'ftm_ce': dict(label='FTM+CE', **_hssn([_FTM, _CE])),
    'hiera_ce': dict(label='CE per level (no tree-min)', **_hssn(_CE)),
    # controls: is a gain the hierarchy's, or a larger step's?
    'cce_lr2': dict(label='CCE, lr x2 (control)', config=FLAT_CONFIG, decode_head={},
                    cfg_options={'optim_wrapper.optimizer.lr': 0.1}),
    'recipe_lr2': dict(label='recipe, lr x2', config=HSSN_CONFIG, decode_head={},
                       cfg_options={'optim_wrapper.optimizer.lr': 0.1}),
    # nearest sub-centroids: flat DNC-FCN, and hierarchical DNC (the recipe's losses on
    # sub-centroid node logits; issue 15)
    'dnc': dict(label='DNC (flat, K=4)', config=DNC_CONFIG, decode_head={}),
    'hiera_dnc': dict(label='hierarchical DNC (recipe, K=4)', config=HIERA_DNC_CONFIG,
                      decode_head=dict(loss_decode=_RECIPE)),
    # the sub-centroids start from random directions and are first placed from the data
    # (and clustered) after 200 iterations, not from the untrained network's features
    'hiera_dnc_begin200': dict(
        label='hierarchical DNC (recipe, K=4), clustering from iteration 200',
        config=HIERA_DNC_CONFIG, decode_head=dict(loss_decode=_RECIPE),
        cfg_options={'custom_hooks': [dict(type='SinkhornClusteringHook', momentum=0.99,
                                           memory_size=500, begin=200)]}),
    # ... and with every per-level LayerNorm scale kept >= 1 (a rare leaf's scale shrank
    # towards 0 under the focal tree-min)
    'hiera_dnc_begin200_scale1': dict(
        label='hierarchical DNC (recipe), from iteration 200, logit scales >= 1',
        config=HIERA_DNC_CONFIG, decode_head=dict(loss_decode=_RECIPE, min_logit_scale=1.0),
        cfg_options={'custom_hooks': [dict(type='SinkhornClusteringHook', momentum=0.99,
                                           memory_size=500, begin=200)]}),
    # without the focal tree-min term, which collapses the sub-centroid logits (README)
    'hiera_dnc_ce_tt': dict(label='hierarchical DNC, CE per level + TT (no FTM)',
                            config=HIERA_DNC_CONFIG, decode_head=dict(loss_decode=_CE)),
    # ... with the node scores divided by a temperature (0.1) instead of the per-level
    # LayerNorm, and with a faster sub-centroid momentum (0.9 instead of the toy's 0.99)
    'hiera_dnc_ce_tt_temp': dict(label='hierarchical DNC, CE + TT, temperature 0.1',
                                 config=HIERA_DNC_CONFIG,
                                 decode_head=dict(logit_norm='temperature', loss_decode=_CE)),
    'hiera_dnc_ce_tt_mom09': dict(
        label='hierarchical DNC, CE + TT, momentum 0.9', config=HIERA_DNC_CONFIG,
        decode_head=dict(loss_decode=_CE), cfg_options={'custom_hooks': [dict(
            type='SinkhornClusteringHook', momentum=0.9, memory_size=500)]}),
    # ... with the focal tree-min back at weight 1 (the recipe's is 5): the hierarchical
    # DNC configs as shipped (hiera_dnc_loss_decode in configs/_base_/hssn_recipe.py)
    'hiera_dnc_ftm1': dict(label='hierarchical DNC, 1 FTM + CE + TT (as shipped)',
                           config=HIERA_DNC_CONFIG, decode_head={}),
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
    for scheduler in cfg.param_scheduler:
        if scheduler.get('end') is not None:
            scheduler['end'] = min(scheduler['end'], iters)
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

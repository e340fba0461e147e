"""The nearest-sub-centroid rows of the toy ablation (issue 15): flat DNC and hierarchical
DNC, their objectives, schedules and the classification of upsampled embeddings.

Every row is ``dict(label, config, decode_head, cfg_options=...)`` as in
:mod:`hieraseg.utils.hssn_ablation`. The hierarchical DNC toy config classifies upsampled
embeddings and warms up since the rows ``*_up*`` were measured; every row says both
explicitly (``classify_upsampled`` and ``upsample_factor``; the toy schedule without
warm-up unless the row sets one), so that it still trains what its recorded figures came
from.
"""
from typing import Dict

from .ablation_parts import CE, RECIPE, warmup

FLAT_DNC_CONFIG = 'configs/dnc/dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'
HIERA_DNC_CONFIG = 'configs/hssn/hiera-dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'


def _hook(**kwargs) -> dict:
    """cfg_options: the toy clustering hook with some arguments changed."""
    return {'custom_hooks': [dict(dict(type='SinkhornClusteringHook', momentum=0.99,
                                       memory_size=500), **kwargs)]}


# the toy schedule without the hierarchical DNC config's warm-up
_NO_WARMUP = {'param_scheduler': [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=2000, by_epoch=False)]}


def _hiera(label: str, classify_upsampled: bool, cfg_options=None, **head) -> dict:
    """A hierarchical DNC row: the toy config's schedule without its warm-up unless
    ``cfg_options`` sets one."""
    return dict(label=label, config=HIERA_DNC_CONFIG,
                cfg_options=dict(_NO_WARMUP, **(cfg_options or {})),
                decode_head=dict(classify_upsampled=classify_upsampled, **head))


def _logits(label: str, cfg_options=None, **head) -> dict:
    """A hierarchical DNC row that upsamples the node logits (as before ``*_up``)."""
    return _hiera(label, False, cfg_options, upsample_factor=None, **head)


def _up(label: str, cfg_options=None, **head) -> dict:
    """A hierarchical DNC row that classifies the upsampled embeddings."""
    return _hiera(label, True, cfg_options, **head)


DNC_ROWS: Dict[str, dict] = {
    # flat DNC-FCN (K=4), as shipped, then at larger steps and with upsampled embeddings
    'dnc': dict(label='DNC (flat, K=4)', config=FLAT_DNC_CONFIG, decode_head={}),
    'dnc_lr2': dict(label='DNC (flat), lr x2', config=FLAT_DNC_CONFIG, decode_head={},
                    cfg_options={'optim_wrapper.optimizer.lr': 0.1}),
    'dnc_lr4_warmup': dict(label='DNC (flat), lr x4, warm-up', config=FLAT_DNC_CONFIG,
                           decode_head={}, cfg_options=warmup(0.2)),
    'dnc_lr4_warmup_up': dict(label='DNC (flat), lr x4, warm-up, upsampled embeddings',
                              config=FLAT_DNC_CONFIG,
                              decode_head=dict(classify_upsampled=True),
                              cfg_options=warmup(0.2)),
    # hierarchical DNC with the HSSN recipe (5 focal tree-min + CE per level + TT)
    'hiera_dnc': _logits('hierarchical DNC (recipe, K=4)', loss_decode=RECIPE),
    # sub-centroids random until iteration 200, then placed from the data and clustered
    'hiera_dnc_begin200': _logits('hierarchical DNC (recipe), clustering from iteration 200',
                                  _hook(begin=200), loss_decode=RECIPE),
    'hiera_dnc_begin200_scale1': _logits(
        'hierarchical DNC (recipe), from iteration 200, logit scales >= 1', _hook(begin=200),
        loss_decode=RECIPE, min_logit_scale=1.0),
    'hiera_dnc_warmup': _logits('hierarchical DNC (recipe), warm-up', warmup(0.05),
                                loss_decode=RECIPE),
    'hiera_dnc_lr2_warmup': _logits('hierarchical DNC (recipe), lr x2, warm-up', warmup(0.1),
                                    loss_decode=RECIPE),
    # per-level CE + TT, no focal tree-min
    'hiera_dnc_ce_tt': _logits('hierarchical DNC, CE per level + TT (no FTM)', loss_decode=CE),
    'hiera_dnc_ce_tt_temp': _logits('hierarchical DNC, CE + TT, temperature 0.1',
                                    logit_norm='temperature', loss_decode=CE),
    'hiera_dnc_ce_tt_mom09': _logits('hierarchical DNC, CE + TT, momentum 0.9',
                                     _hook(momentum=0.9), loss_decode=CE),
    # the focal tree-min at weight 1 (configs/_base_/hssn_recipe.py hiera_dnc_loss_decode,
    # the configs' objective), logits upsampled
    'hiera_dnc_ftm1': _logits('hierarchical DNC, 1 FTM + CE + TT'),
    'hiera_dnc_ftm1_k1': _logits('hierarchical DNC, 1 FTM + CE + TT, K=1', num_sub_centroids=1),
    'hiera_dnc_ftm1_lr2': _logits('hierarchical DNC, 1 FTM + CE + TT, lr x2',
                                  {'optim_wrapper.optimizer.lr': 0.1}),
    'hiera_dnc_ftm1_lr2_rescue20': _logits(
        'hierarchical DNC, 1 FTM + CE + TT, lr x2, rescue after 20 steps',
        dict(_hook(rescue_after=20), **{'optim_wrapper.optimizer.lr': 0.1})),
    'hiera_dnc_ftm1_lr2_warmup': _logits('hierarchical DNC, 1 FTM + CE + TT, lr x2, warm-up',
                                         warmup(0.1)),
    'hiera_dnc_ftm1_lr4_warmup': _logits('hierarchical DNC, 1 FTM + CE + TT, lr x4, warm-up',
                                         warmup(0.2)),
    'hiera_dnc_ftm1_lr8_warmup': _logits('hierarchical DNC, 1 FTM + CE + TT, lr x8, warm-up',
                                         warmup(0.4)),
    'hiera_dnc_ftm1_lr4_warmup_mom095': _logits(
        'hierarchical DNC, 1 FTM + CE + TT, lr x4, warm-up, momentum 0.95',
        dict(warmup(0.2), **_hook(momentum=0.95))),
    # a positive scale and a bias per node instead of the per-level LayerNorm
    'hiera_dnc_affine_lr4_warmup': _logits(
        'hierarchical DNC, 1 FTM + CE + TT, affine logits, lr x4, warm-up', warmup(0.2),
        logit_norm='affine'),
    # the embeddings upsampled to the label size (or by 2 / 4) and classified there
    'hiera_dnc_ftm1_up': _up('hierarchical DNC, 1 FTM + CE + TT, upsampled embeddings',
                             upsample_factor=None),
    'hiera_dnc_ftm1_up2': _up('hierarchical DNC, 1 FTM + CE + TT, embeddings upsampled x2',
                              upsample_factor=2),
    'hiera_dnc_ftm1_up4': _up('hierarchical DNC, 1 FTM + CE + TT, embeddings upsampled x4',
                              upsample_factor=4),
    'hiera_dnc_ftm1_up_warmup': _up(
        'hierarchical DNC, 1 FTM + CE + TT, upsampled embeddings, warm-up', warmup(0.05),
        upsample_factor=None),
    'hiera_dnc_ftm1_up4_warmup': _up(
        'hierarchical DNC, 1 FTM + CE + TT, embeddings upsampled x4, warm-up (as shipped)',
        warmup(0.05), upsample_factor=4),
    'hiera_dnc_ftm1_lr4_warmup_up': _up(
        'hierarchical DNC, 1 FTM + CE + TT, lr x4, warm-up, upsampled embeddings', warmup(0.2),
        upsample_factor=None),
}

"""Pieces the toy ablation's rows are built from (:mod:`hieraseg.utils.hssn_ablation`,
:mod:`hieraseg.utils.dnc_ablation_rows`): the HSSN loss terms and the warm-up schedule."""

FTM = dict(type='TreeMinLoss', gamma=2.0, reduction_mode='node_sum')
TM = dict(FTM, gamma=0.0)
TT = dict(type='TreeTripletLoss', loss_weight=0.5, max_triplets_per_class=200)
CE = dict(type='HieraCrossEntropyLoss')
# configs/_base_/hssn_recipe.py's hssn_loss_decode
RECIPE = [dict(FTM, loss_weight=5.0), CE]


def warmup(lr: float, iters: int = 200) -> dict:
    """cfg_options: SGD at ``lr``, reached by a linear warm-up from lr / 10 over ``iters``
    iterations, then the toy schedule's poly decay."""
    return {'optim_wrapper.optimizer.lr': lr, 'param_scheduler': [
        dict(type='LinearLR', start_factor=0.1, begin=0, end=iters, by_epoch=False),
        dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=iters, end=2000, by_epoch=False)]}

# What the toy ablation's rows are built from: the HSSN loss terms (the shipped recipe is
# configs/_base_/hssn_recipe.py's hssn_loss_decode) and the toy schedule (SGD, poly decay to
# 1e-4 at iteration 2000) without and with a linear warm-up from lr / 10 over 200 iterations.
FTM = dict(type='TreeMinLoss', gamma=2.0, reduction_mode='node_sum')
TM = dict(type='TreeMinLoss', gamma=0.0, reduction_mode='node_sum')
TT = dict(type='TreeTripletLoss', loss_weight=0.5, max_triplets_per_class=200)
CE = dict(type='HieraCrossEntropyLoss')
poly = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=2000, by_epoch=False)]
warmup_poly = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=200, by_epoch=False),
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=200, end=2000, by_epoch=False)
]

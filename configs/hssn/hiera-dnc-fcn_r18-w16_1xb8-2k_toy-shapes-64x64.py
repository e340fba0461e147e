# Hierarchical DNC on the toy data set: the HSSN demo (hssn-fcn_r18-w16_..., same schedule)
# with its parametric node classifier replaced by a projection to 64-d embeddings and K=4
# sub-centroids for every node of the 6 -> 3 hierarchy (hiera_dnc_fcn_head in
# configs/_base_/hssn_recipe.py, where each setting is explained), clustered by the
# SinkhornClusteringHook every iteration. Objective: the HSSN recipe with its focal tree-min at
# weight 1 instead of 5 (experiments/README.md).
_base_ = ['./hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py']
model = dict(decode_head={{_base_.hiera_dnc_fcn_head}})
custom_hooks = {{_base_.hiera_dnc_fcn_clustering}}
# The toy schedule (SGD lr 0.05, poly) reached by a linear warm-up over the first 200
# iterations: without one leaf classes died in some seeds (experiments/README.md).
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=200, by_epoch=False),
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=200, end=2000, by_epoch=False)
]

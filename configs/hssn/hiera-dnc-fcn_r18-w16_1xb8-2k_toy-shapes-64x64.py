# Hierarchical DNC on the toy data set: the HSSN demo (hssn-fcn_r18-w16_..., same schedule)
# with its parametric node classifier replaced by projection + K=4 sub-centroids for every
# node of the 6 -> 3 hierarchy (64-d embeddings, as the toy DNC-FCN), clustered by the
# SinkhornClusteringHook every iteration (coarse nodes over their descendant leaves' features).
# Objective: the HSSN recipe with its focal tree-min at weight 1 instead of 5
# (hiera_dnc_loss_decode in configs/_base_/hssn_recipe.py; experiments/README.md).
# classify_upsampled: the loss and the prediction classify the 1/8-resolution embeddings
# upsampled x4 (to 1/2, 32x32) rather than upsample the node logits (boundaries inside a
# feature cell; docs/dnc.md), as the DeepLabV3+ configs (1/4 x 2); on the toy set x4 trained
# better than the full size (experiments/README.md).
_base_ = ['./hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py']
model = dict(
    decode_head=dict(
        type='HieraDNCFCNHead', num_sub_centroids=4, embed_channels=64,
        logit_norm='layernorm', classify_upsampled=True, upsample_factor=4,
        loss_decode={{_base_.hiera_dnc_loss_decode}}))
# as the toy DNC-FCN (configs/dnc/dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py)
custom_hooks = [dict(type='SinkhornClusteringHook', momentum=0.99, memory_size=500)]
# The toy schedule (SGD lr 0.05, poly) reached by a linear warm-up over the first 200
# iterations: without one leaf classes died in some seeds (experiments/README.md).
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=200, by_epoch=False),
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=200, end=2000, by_epoch=False)
]

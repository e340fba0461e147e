# Hierarchical DNC on the toy data set: the HSSN demo (hssn-fcn_r18-w16_..., same schedule)
# with its parametric node classifier replaced by projection + K=4 sub-centroids for every
# node of the 6 -> 3 hierarchy (64-d embeddings, as the toy DNC-FCN), clustered by the
# SinkhornClusteringHook every iteration (coarse nodes over their descendant leaves' features).
# Objective: the HSSN recipe with its focal tree-min at weight 1 instead of 5
# (hiera_dnc_loss_decode in configs/_base_/hssn_recipe.py; README, "HSSN ablation").
_base_ = ['./hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py']
model = dict(
    decode_head=dict(
        type='HieraDNCFCNHead', num_sub_centroids=4, embed_channels=64,
        logit_norm='layernorm',
        loss_decode={{_base_.hiera_dnc_loss_decode}}))
# as the toy DNC-FCN (configs/dnc/dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py)
custom_hooks = [dict(type='SinkhornClusteringHook', momentum=0.99, memory_size=500)]

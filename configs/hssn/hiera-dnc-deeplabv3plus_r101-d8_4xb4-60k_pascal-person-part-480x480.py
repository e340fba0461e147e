# Hierarchical DNC (docs/hiera_dnc.md) on PASCAL-Person-Part, 7 -> 3 -> 2: the HSSN config beside it
# (hssn-deeplabv3plus_r101-d8_4xb4-60k_pascal-person-part-480x480.py: DeepLabV3+ R101-D8, hieraseg's
# HSSN recipe, same schedule) with the parametric node classifier replaced by K=10 cosine
# sub-centroids for every node of the hierarchy (hiera_dnc_sep_aspp_head in
# configs/_base_/hssn_recipe.py, where each setting is explained). Objective: the HSSN recipe with
# its focal tree-min at weight 1 instead of 5 (with weight 5 sub-centroid logits lost leaf classes
# on the toy set), per-level CE, tree-triplet.
_base_ = ['./hssn-deeplabv3plus_r101-d8_4xb4-60k_pascal-person-part-480x480.py']
model = dict(decode_head={{_base_.hiera_dnc_sep_aspp_head}})
custom_hooks = {{_base_.hiera_dnc_sep_aspp_clustering}}
# A linear warm-up (lr / 10 -> lr over the first 1000 iterations), then the HSSN config's
# poly decay. On the toy set hierarchical DNC without a warm-up lost leaf classes for good
# in some seeds; with one, at the configs' other settings, in none (experiments/README.md).
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=1000, by_epoch=False),
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=1000, end=60000, by_epoch=False)
]

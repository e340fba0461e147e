# Toy ablation row 'hiera_dnc_ftm1_k1' (experiments/run_toy_ablation.py): hierarchical DNC, 1 FTM
# + CE + TT, K=1.
_base_ = ['../../configs/hssn/hiera-dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'hierarchical DNC, 1 FTM + CE + TT, K=1'
model = dict(decode_head=dict(
    classify_upsampled=False,
    upsample_factor=None,
    num_sub_centroids=1))
param_scheduler = {{_base_.poly}}

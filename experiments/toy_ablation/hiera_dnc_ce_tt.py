# Toy ablation row 'hiera_dnc_ce_tt' (experiments/run_toy_ablation.py): hierarchical DNC, CE per
# level + TT (no FTM).
_base_ = ['../../configs/hssn/hiera-dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'hierarchical DNC, CE per level + TT (no FTM)'
model = dict(decode_head=dict(
    classify_upsampled=False,
    upsample_factor=None,
    loss_decode=[{{_base_.CE}}]))
param_scheduler = {{_base_.poly}}

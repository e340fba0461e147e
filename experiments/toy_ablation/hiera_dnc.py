# Toy ablation row 'hiera_dnc' (experiments/run_toy_ablation.py): hierarchical DNC (recipe, K=4).
_base_ = ['../../configs/hssn/hiera-dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'hierarchical DNC (recipe, K=4)'
model = dict(decode_head=dict(
    classify_upsampled=False,
    upsample_factor=None,
    loss_decode={{_base_.hssn_loss_decode}}))
param_scheduler = {{_base_.poly}}

# Toy ablation row 'hiera_dnc_ftm1_lr4_warmup' (experiments/run_toy_ablation.py): hierarchical
# DNC, 1 FTM + CE + TT, lr x4, warm-up.
_base_ = ['../../configs/hssn/hiera-dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'hierarchical DNC, 1 FTM + CE + TT, lr x4, warm-up'
model = dict(decode_head=dict(
    classify_upsampled=False,
    upsample_factor=None))
optim_wrapper = dict(optimizer=dict(lr=0.2))
param_scheduler = {{_base_.warmup_poly}}

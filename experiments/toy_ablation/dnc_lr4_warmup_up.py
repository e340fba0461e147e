# Toy ablation row 'dnc_lr4_warmup_up' (experiments/run_toy_ablation.py): DNC (flat), lr x4, warm-
# up, upsampled embeddings.
_base_ = ['../../configs/dnc/dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'DNC (flat), lr x4, warm-up, upsampled embeddings'
model = dict(decode_head=dict(
    classify_upsampled=True))
optim_wrapper = dict(optimizer=dict(lr=0.2))
param_scheduler = {{_base_.warmup_poly}}

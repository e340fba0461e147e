# Toy ablation row 'dnc_lr2' (experiments/run_toy_ablation.py): DNC (flat), lr x2.
_base_ = ['../../configs/dnc/dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'DNC (flat), lr x2'
optim_wrapper = dict(optimizer=dict(lr=0.1))

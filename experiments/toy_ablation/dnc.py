# Toy ablation row 'dnc' (experiments/run_toy_ablation.py): DNC (flat, K=4).
_base_ = ['../../configs/dnc/dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'DNC (flat, K=4)'

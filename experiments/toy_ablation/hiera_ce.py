# Toy ablation row 'hiera_ce' (experiments/run_toy_ablation.py): CE per level (no tree-min).
_base_ = ['../../configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'CE per level (no tree-min)'
model = dict(decode_head=dict(
    loss_decode=[{{_base_.CE}}],
    loss_triplet=None))

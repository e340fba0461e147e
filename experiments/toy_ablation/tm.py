# Toy ablation row 'tm' (experiments/run_toy_ablation.py): TM.
_base_ = ['../../configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'TM'
model = dict(decode_head=dict(
    loss_decode=[{{_base_.TM}}],
    loss_triplet=None))

# Toy ablation row 'focal' (experiments/run_toy_ablation.py): Focal.
_base_ = ['../../configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'Focal'
model = dict(decode_head=dict(
    loss_decode=[dict(type='NodeSigmoidLoss', gamma=2.0, reduction_mode='node_sum')],
    loss_triplet=None))

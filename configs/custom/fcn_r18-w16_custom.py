# Flat baseline on YOUR data (configs/custom/custom_data.py: data, hierarchy, schedule): the
# small CPU-friendly FCN (ResNetV1c-18 at width 16, output stride 8) with per-pixel softmax
# CE on the leaf classes, evaluated at every hierarchy level (a coarse prediction is the
# leaf prediction's ancestor). Nothing to edit here.
_base_ = [
    './custom_data.py', '../_base_/models/fcn_r18-w16-d8.py', '../_base_/default_runtime.py'
]
optimizer = dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=0.0005)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer, clip_grad=None)
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    decode_head=dict(num_classes={{_base_.num_classes}}))

# Flat baseline on the toy data set: a plain FCN trained with per-pixel softmax CE on the
# 6 leaf classes, evaluated at both hierarchy levels (the coarse prediction is the leaf
# prediction's colour family).
_base_ = [
    '../_base_/models/fcn_r18-w16-d8.py', '../_base_/datasets/toy_shapes.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_toy_2k.py'
]
crop_size = (64, 64)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
randomness = dict(seed=0)

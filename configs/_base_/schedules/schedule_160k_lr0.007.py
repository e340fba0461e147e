# HSSN's LIP schedule: SGD lr 0.007, momentum 0.9, poly 0.9, 160k iterations.
_base_ = ['mmseg::_base_/schedules/schedule_160k.py']
optimizer = dict(type='SGD', lr=0.007, momentum=0.9, weight_decay=0.0005)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer, clip_grad=None)

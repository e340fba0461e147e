# mmseg's Cityscapes settings (512x1024 crops) with the 19 -> 7 class hierarchy in the data
# set's metainfo and mIoU at both levels.
_base_ = ['mmseg::_base_/datasets/cityscapes.py']
train_dataloader = dict(dataset=dict(type='HieraCityscapesDataset'))
val_dataloader = dict(dataset=dict(type='HieraCityscapesDataset'))
test_dataloader = val_dataloader
val_evaluator = dict(type='HierarchicalIoUMetric')
test_evaluator = val_evaluator

# mmseg's Mapillary Vistas 2.0 settings (512x1024 crops) with hieraseg's 124 -> 16 -> 4
# hierarchy in the data set's metainfo and mIoU at every level.
_base_ = ['mmseg::_base_/datasets/mapillary_v2.py']
train_dataloader = dict(dataset=dict(type='HieraMapillaryDataset_v2'))
val_dataloader = dict(dataset=dict(type='HieraMapillaryDataset_v2'))
test_dataloader = val_dataloader
val_evaluator = dict(type='HierarchicalIoUMetric')
test_evaluator = val_evaluator

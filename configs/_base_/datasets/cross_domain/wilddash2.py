# WildDash 2 public images (panoptic labels mapped to the 19 Cityscapes classes by WildDash's
# own label policy) as a Cityscapes-trained model's test set:
#   python tools/dataset_converters/wilddash2.py data/wd_public_v2p0 \
#       -o data/cross_domain/wilddash2 [--list validation.txt]
target_dataset = dict(
    type='HieraCityscapesDataset',
    data_root='data/cross_domain/wilddash2',
    data_prefix=dict(img_path='images', seg_map_path='labels'),
    ann_file='val.txt',
    img_suffix='.jpg',
    seg_map_suffix='_labelTrainIds.png')
target_test_evaluator = dict(type='HierarchicalIoUMetric', calibration_bins=15)

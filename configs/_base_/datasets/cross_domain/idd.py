# IDD segmentation val (981 images), level-3 ids mapped to the 19 Cityscapes classes (no
# terrain, no train), as a Cityscapes-trained model's test set:
#   python tools/dataset_converters/idd.py data/idd -o data/cross_domain/idd
target_dataset = dict(
    type='HieraCityscapesDataset',
    data_root='data/cross_domain/idd',
    data_prefix=dict(img_path='images', seg_map_path='labels'),
    ann_file='val.txt',
    img_suffix='_leftImg8bit.png',
    seg_map_suffix='_labelTrainIds.png')
target_test_evaluator = dict(type='HierarchicalIoUMetric', calibration_bins=15)

# Mapillary Vistas 2.0 validation (2000 images), its 124 classes mapped to the 19 Cityscapes
# classes, as a Cityscapes-trained model's test set:
#   python tools/dataset_converters/mapillary_v2_to_cityscapes.py data/mapillary \
#       -o data/cross_domain/mapillary_v2
target_dataset = dict(
    type='HieraCityscapesDataset',
    data_root='data/cross_domain/mapillary_v2',
    data_prefix=dict(img_path='images', seg_map_path='labels'),
    ann_file='val.txt',
    img_suffix='.jpg',
    seg_map_suffix='_labelTrainIds.png')
target_test_evaluator = dict(type='HierarchicalIoUMetric', calibration_bins=15)

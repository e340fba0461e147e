# ACDC val (fog, night, rain, snow; 406 images) as a Cityscapes-trained model's test set:
#   python tools/dataset_converters/acdc.py data/acdc -o data/cross_domain/acdc
# Cityscapes train ids, ACDC's invalid regions ignored (docs/cross_domain.md).
target_dataset = dict(
    type='HieraCityscapesDataset',
    data_root='data/cross_domain/acdc',
    data_prefix=dict(img_path='images', seg_map_path='labels'),
    ann_file='val.txt',
    img_suffix='_rgb_anon.png',
    seg_map_suffix='_labelTrainIds.png')
target_test_evaluator = dict(type='HierarchicalIoUMetric', calibration_bins=15)

# BDD100K 10k val (1000 images) as a Cityscapes-trained model's test set, read as released
# (its masks are Cityscapes train ids); check the download with
#   python tools/dataset_converters/bdd100k.py data/bdd100k
target_dataset = dict(
    type='HieraCityscapesDataset',
    data_root='data/bdd100k',
    data_prefix=dict(img_path='images/10k/val', seg_map_path='labels/sem_seg/masks/val'),
    img_suffix='.jpg',
    seg_map_suffix='.png')
target_test_evaluator = dict(type='HierarchicalIoUMetric', calibration_bins=15)

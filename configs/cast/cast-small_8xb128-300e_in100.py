# CAST-S supervised on ImageNet-100 (the 100-class subset of the CAST authors'
# scripts/data/filter_imagenet100.py, kept as an ImageNet-style folder tree:
# data/imagenet100/{train,val}/<wnid>/*.JPEG), the recipe of cast-small_8xb128-300e_in1k.py.
# Paper: 79.9 top-1 (ViT-S 78.1). Baseline: vit-small_8xb128-300e_in100.py.
_base_ = ['./cast-small_8xb128-300e_in1k.py']
data_preprocessor = dict(num_classes=100)
model = dict(data_preprocessor=data_preprocessor, head=dict(num_classes=100))
train_dataloader = dict(
    dataset=dict(_delete_=True, type='CustomDataset', data_root='data/imagenet100',
                 data_prefix='train', pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(_delete_=True, type='CustomDataset', data_root='data/imagenet100',
                 data_prefix='val', pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader

# ViT-S/16 baseline for cast-small_8xb128-300e_in100.py (same data, same recipe).
_base_ = ['./vit-small_8xb128-300e_in1k.py']
data_preprocessor = dict(num_classes=100)
model = dict(head=dict(num_classes=100))
train_dataloader = dict(
    dataset=dict(_delete_=True, type='CustomDataset', data_root='data/imagenet100',
                 data_prefix='train', pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(_delete_=True, type='CustomDataset', data_root='data/imagenet100',
                 data_prefix='val', pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader

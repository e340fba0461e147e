# Cross-domain test (docs/cross_domain.md): hierarchical DNC DeepLabV3+ R101 (confidence: the
# softmax over each level's node logits), trained on Cityscapes
# (../hssn/hiera-dnc-deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py), tested on BDD100K val
# (../_base_/datasets/cross_domain/bdd100k.py): mIoU, ECE and class-wise ECE of the 19 classes and
# the 7 categories. The val set stays Cityscapes val: tools/calibrate_temperature.py fits on it
# (in domain) and reports on this test set with --report-split test.
#   python tools/test.py \
#       configs/cross_domain/hiera-dnc-deeplabv3plus_r101-d8_cityscapes-to-bdd100k.py \
#       CHECKPOINT
_base_ = [
    '../hssn/hiera-dnc-deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py',
    '../_base_/datasets/cross_domain/bdd100k.py'
]
test_dataloader = dict(dataset={{_base_.target_dataset}})
test_evaluator = {{_base_.target_test_evaluator}}

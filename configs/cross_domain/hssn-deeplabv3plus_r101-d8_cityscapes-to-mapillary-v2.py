# Cross-domain test (docs/cross_domain.md): HSSN DeepLabV3+ R101 (confidence: the sigmoid of the
# chosen path's node), trained on Cityscapes
# (../hssn/hssn-deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py), tested on Mapillary Vistas
# 2.0 validation (../_base_/datasets/cross_domain/mapillary_v2.py): mIoU, ECE and class-wise ECE
# of the 19 classes and the 7 categories. The val set stays Cityscapes val:
# tools/calibrate_temperature.py fits on it (in domain) and reports on this test set with
# --report-split test.
#   python tools/test.py \
#       configs/cross_domain/hssn-deeplabv3plus_r101-d8_cityscapes-to-mapillary-v2.py \
#       CHECKPOINT
_base_ = [
    '../hssn/hssn-deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py',
    '../_base_/datasets/cross_domain/mapillary_v2.py'
]
test_dataloader = dict(dataset={{_base_.target_dataset}})
test_evaluator = {{_base_.target_test_evaluator}}

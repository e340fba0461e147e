# mmseg's runtime (default scope 'mmseg', nccl) with the hieraseg plugins, a visualizer that
# draws every hierarchy level and a TTA model that merges HSSN scores. tools/train.py and
# tools/test.py switch to gloo and BN where there is no CUDA.
_base_ = ['mmseg::_base_/default_runtime.py', './hieraseg.py']
visualizer = dict(type='HieraSegLocalVisualizer')
# Merges HSSN models' augmented copies by their path scores (mmseg's SegTTAModel otherwise).
tta_model = dict(type='HieraSegTTAModel')

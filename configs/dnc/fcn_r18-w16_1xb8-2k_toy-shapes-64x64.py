# Parametric baseline of dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py: the small FCN
# (ResNetV1c-18 at width 16) with softmax CE on the generated toy data set, the same model
# as HSSN's flat toy baseline (python tools/make_toy_data.py data/toy_shapes).
_base_ = ['../hssn/fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py']

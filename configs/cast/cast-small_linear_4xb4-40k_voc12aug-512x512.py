# CAST-S with a linear head (a 1x1 classifier on the concatenated four levels, no conv) on
# PASCAL VOC 2012 (+ SBD); otherwise cast-small_fcn_4xb4-40k_voc12aug-512x512.py.
_base_ = ['./cast-small_fcn_4xb4-40k_voc12aug-512x512.py']
model = dict(decode_head=dict(channels=4 * 384, num_convs=0, dropout_ratio=0.0))

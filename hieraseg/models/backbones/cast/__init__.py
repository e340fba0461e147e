from .cast import CAST
from .compose import compose_segments, compose_token_ids
from .fps import farthest_point_sampling
from .graph_pool import GraphPooling
from .layers import ConvStem, MaskedTransformerEncoderLayer, sincos_pos_embed_2d
from .segment_pool import (check_superpixels, paint_segments, relabel_superpixels,
                           segment_counts, segment_pool)

__all__ = [
    'CAST', 'compose_segments', 'compose_token_ids', 'farthest_point_sampling',
    'GraphPooling', 'ConvStem', 'MaskedTransformerEncoderLayer', 'sincos_pos_embed_2d',
    'check_superpixels', 'paint_segments', 'relabel_superpixels', 'segment_counts',
    'segment_pool'
]

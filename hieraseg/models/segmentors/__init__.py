from .cast_encoder_decoder import CASTEncoderDecoder
from .flat_hiera_encoder_decoder import FlatHieraEncoderDecoder
from .flip_swap_tta import FlipSwapSegTTAModel
from .hiera_encoder_decoder import HieraEncoderDecoder
from .hiera_tta import HieraSegTTAModel

__all__ = [
    'CASTEncoderDecoder', 'FlatHieraEncoderDecoder', 'FlipSwapSegTTAModel',
    'HieraEncoderDecoder', 'HieraSegTTAModel'
]

from .cast_encoder_decoder import CASTEncoderDecoder
from .flip_swap_tta import FlipSwapSegTTAModel
from .hiera_encoder_decoder import HieraEncoderDecoder
from .hiera_tta import HieraSegTTAModel

__all__ = [
    'CASTEncoderDecoder', 'FlipSwapSegTTAModel', 'HieraEncoderDecoder', 'HieraSegTTAModel'
]

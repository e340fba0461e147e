from .flip_swap_tta import FlipSwapSegTTAModel
from .hiera_encoder_decoder import HieraEncoderDecoder

__all__ = ['FlipSwapSegTTAModel', 'HieraEncoderDecoder']

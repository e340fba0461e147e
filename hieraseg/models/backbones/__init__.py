from .cast import CAST, compose_segments

__all__ = ['CAST', 'compose_segments']

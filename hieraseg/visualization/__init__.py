from .hiera_visualizer import HieraSegLocalVisualizer

__all__ = ['HieraSegLocalVisualizer']

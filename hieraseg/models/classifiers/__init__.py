from .cast_classifier import CASTImageClassifier

__all__ = ['CASTImageClassifier']

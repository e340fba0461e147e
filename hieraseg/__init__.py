"""hieraseg: HSSN and DNC as OpenMMLab 2.0 plugins.

Importing the package registers every plugin (datasets, models, hooks, metrics) into the
mmseg / mmpretrain / mmengine registries; configs do it with
``custom_imports = dict(imports=['hieraseg'], allow_failed_imports=False)``.
"""
from .version import __version__
from . import hierarchy  # noqa: F401,E402
from . import utils  # noqa: F401,E402
from . import datasets, engine, evaluation, models, visualization  # noqa: F401,E402

__all__ = ['__version__']

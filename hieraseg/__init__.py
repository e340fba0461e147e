"""hieraseg: HSSN and DNC as OpenMMLab 2.0 plugins.

Importing the package registers every plugin (datasets, models, hooks, metrics) into the
mmseg / mmpretrain / mmengine registries; configs do it with
``custom_imports = dict(imports=['hieraseg'], allow_failed_imports=False)``.
"""
import warnings

# mmengine and mmcv import pkg_resources, which warns of its own deprecation at every start
# (several lines per process). The tools import hieraseg before mmengine, so that this
# filter is in place first.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)

from .version import __version__  # noqa: E402
from . import hierarchy  # noqa: F401,E402
from . import utils  # noqa: F401,E402
from . import datasets, engine, evaluation, models, visualization  # noqa: F401,E402

__all__ = ['__version__']

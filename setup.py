import os.path as osp

from setuptools import find_packages, setup


def read_requirements(name):
    """Requirement lines of ``requirements/<name>.txt`` (comments and blanks dropped)."""
    with open(osp.join(osp.dirname(__file__), 'requirements', name)) as f:
        lines = (line.split('#', 1)[0].strip() for line in f)
        return [line for line in lines if line]


def read_version():
    namespace = {}
    with open(osp.join(osp.dirname(__file__), 'hieraseg', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


setup(
    name='hieraseg',
    version=read_version(),
    description='Hierarchical semantic segmentation (HSSN) and deep nearest centroids (DNC) '
    'on OpenMMLab 2.0',
    long_description=open(osp.join(osp.dirname(__file__), 'README.md')).read()
    if osp.exists(osp.join(osp.dirname(__file__), 'README.md')) else '',
    long_description_content_type='text/markdown',
    packages=find_packages(include=('hieraseg', 'hieraseg.*')),
    include_package_data=True,
    python_requires='>=3.8',
    install_requires=read_requirements('runtime.txt'),
    extras_require={
        # mim-style: the OpenMMLab packages are installed separately so that pip never
        # builds mmcv in an isolated environment (it would skip the compiled ops).
        'mim': read_requirements('mminstall.txt'),
        'tests': read_requirements('tests.txt'),
        # tools/dataset_converters/cityscapes.py
        'cityscapes': read_requirements('cityscapes.txt'),
    },
    license='Apache License 2.0',
    zip_safe=False,
)

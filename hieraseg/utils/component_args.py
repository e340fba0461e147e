"""Arguments a hieraseg component does not take, found on the config.

A config dict with a ``type`` is built as ``cls(**the other keys)``. A class whose
``__init__`` takes ``**kwargs`` and drops what it does not know would ignore a misspelled or
unsupported key (``test_evaluator.calibration_bins=15``) without a word. Before anything is
built, :func:`check_component_args` checks every such dict under the model, the data sets
and their pipelines, the evaluators, the hooks and the visualizer whose class is one of
hieraseg's against the arguments the class really accepts: its own, and, where it hands
``**kwargs`` to ``super().__init__``, those of the next class in its MRO, and so on.
"""
import ast
import inspect
import textwrap
from functools import lru_cache
from typing import Iterator, Optional, Tuple

from mmengine.config import Config

from .config_checks import DATALOADERS, _close

# The keys a registry reads itself, not passed to the class.
_REGISTRY_KEYS = ('type', '_scope_')


def _init_of(cls) -> Optional[type]:
    """The first class of ``cls``'s MRO that defines ``__init__`` (None: object's)."""
    for klass in inspect.getmro(cls):
        if klass is object:
            return None
        if '__init__' in vars(klass):
            return klass
    return None


# Uses of ``kwargs`` that read or fill it before it is handed on: the keys still reach the
# parent class.
_READS = ('get', 'setdefault', 'keys', 'items', 'values', 'update', 'copy')


def _is_super_init(node) -> bool:
    """Whether ``node`` is a call ``super().__init__(...)`` (or ``super(C, self)...``)."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
        node.func.attr == '__init__' and isinstance(node.func.value, ast.Call) and \
        isinstance(node.func.value.func, ast.Name) and node.func.value.func.id == 'super'


@lru_cache(maxsize=None)
def _kwargs_flow(klass: type, kwargs_name: str) -> Optional[Tuple[bool, Tuple[str, ...]]]:
    """How ``klass.__init__`` treats its ``**kwargs_name``: ``(handed on to
    super().__init__, keys it pops for itself)``, or None where it is used otherwise (given
    to another callable, stored), so that what it accepts cannot be known. Reading
    (``kwargs.get('x')``, ``kwargs['x']``, ``'x' in kwargs``) or filling it
    (``setdefault``, ``kwargs['x'] = v``) before handing it on keeps the keys flowing."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(vars(klass)['__init__'])))
    except (OSError, TypeError, SyntaxError):
        return None
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    handed, popped = False, []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Name) and node.id == kwargs_name):
            continue
        parent = parents.get(id(node))
        if isinstance(parent, ast.keyword) and parent.arg is None and \
                _is_super_init(parents.get(id(parent))):
            handed = True
        elif isinstance(parent, ast.Subscript) or (
                isinstance(parent, ast.Compare) and parent.comparators[-1] is node):
            continue
        elif isinstance(parent, ast.Attribute) and parent.attr in _READS:
            continue
        elif isinstance(parent, ast.Attribute) and parent.attr == 'pop':
            call = parents.get(id(parent))
            if not (isinstance(call, ast.Call) and call.args and
                    isinstance(call.args[0], ast.Constant)):
                return None
            popped.append(call.args[0].value)
        else:
            return None
    return handed, tuple(popped)


@lru_cache(maxsize=None)
def accepted_arguments(cls: type) -> Optional[Tuple[str, ...]]:
    """The keyword arguments ``cls(...)`` really uses, following ``**kwargs`` up its MRO;
    None where that cannot be known (a ``**kwargs`` used for something else)."""
    names = []
    klass = _init_of(cls)
    while klass is not None:
        parameters = inspect.signature(vars(klass)['__init__']).parameters
        names += [name for name, p in parameters.items()
                  if name != 'self' and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        var_keyword = [name for name, p in parameters.items() if p.kind == p.VAR_KEYWORD]
        if not var_keyword:
            break
        flow = _kwargs_flow(klass, var_keyword[0])
        if flow is None:
            return None
        handed, popped = flow
        names += popped
        if not handed:
            break  # dropped: exactly what the check is for
        mro = inspect.getmro(cls)
        klass = _init_of_after(mro, klass)
    return tuple(dict.fromkeys(names))


def _init_of_after(mro, klass) -> Optional[type]:
    for later in mro[mro.index(klass) + 1:]:
        if later is object:
            return None
        if '__init__' in vars(later):
            return later
    return None


def _is_hieraseg(cls) -> bool:
    return inspect.isclass(cls) and cls.__module__.split('.')[0] == 'hieraseg'


def _components(cfg: Config) -> Iterator[Tuple[str, object, str]]:
    """``(where, node, registry name)`` for every part of the config holding components."""
    for key in ('model', 'tta_model'):
        if cfg.get(key) is not None:
            yield key, cfg[key], 'MODELS'
    for loader in DATALOADERS:
        if isinstance(cfg.get(loader), dict) and cfg[loader].get('dataset') is not None:
            yield f'{loader}.dataset', cfg[loader]['dataset'], 'DATASETS'
    for key in ('val_evaluator', 'test_evaluator'):
        if cfg.get(key) is not None:
            yield key, cfg[key], 'METRICS'
    if cfg.get('visualizer') is not None:
        yield 'visualizer', cfg.visualizer, 'VISUALIZERS'
    for name, hook in (cfg.get('default_hooks') or {}).items():
        yield f'default_hooks.{name}', hook, 'HOOKS'
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        yield f'custom_hooks[{i}]', hook, 'HOOKS'


def _registry(name: str):
    from mmengine import registry
    return getattr(registry, name)


def _check_node(node, where: str, registry_name: str, scope: Optional[str]):
    if isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            _check_node(value, f'{where}[{i}]', registry_name, scope)
        return
    if not isinstance(node, dict):
        return
    scope = node.get('_scope_', scope)
    if 'type' in node:
        _check_one(node, where, registry_name, scope)
    for key, value in node.items():
        child_registry = registry_name
        if registry_name == 'DATASETS' and key == 'pipeline':
            child_registry = 'TRANSFORMS'
        if key in ('init_cfg', ):
            continue  # weight initialisers, read by mmengine's BaseModule
        _check_node(value, f'{where}.{key}', child_registry, scope)


def _check_one(node: dict, where: str, registry_name: str, scope: Optional[str]):
    kind = node['type']
    if not isinstance(kind, str):
        cls = kind
    else:
        with _registry(registry_name).switch_scope_and_registry(scope) as registry:
            cls = registry.get(kind)
    if not _is_hieraseg(cls):
        return
    accepted = accepted_arguments(cls)
    if accepted is None:
        return
    for key in node:
        if key not in _REGISTRY_KEYS and key not in accepted:
            raise TypeError(
                f'{where}.{key}: {cls.__name__} has no argument {key!r}'
                f'{_close(key, accepted)}; it takes {", ".join(sorted(accepted))}')


def check_component_args(cfg: Config):
    """Raises TypeError for a key of a hieraseg component's config dict that its class does
    not take (see the module doc), naming the key, the class, the closest and all accepted
    argument names. Components of other packages are left to their own classes."""
    scope = cfg.get('default_scope')
    for where, node, registry_name in _components(cfg):
        _check_node(node, where, registry_name, scope)

"""Lines of a YAML / JSON hierarchy file: where a key of its dict form is written, and
mapping keys written twice (which a YAML or JSON reader silently reduces to the last).

Both read the file's node tree (``yaml.compose``; a JSON file is read as YAML for this, and
where that fails no line is given), never construct Python objects from tags.
"""
from typing import Optional, Sequence, Tuple

import yaml


def _compose(text: str):
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None


def line_of(text: str, key: Sequence) -> Optional[int]:
    """The 1-based line of ``key`` (a path of mapping keys and list indices, e.g.
    ``('groups', 0, 'warm', 1)``) in the YAML / JSON ``text``: the line of the deepest
    part of the path that exists (a mapping key's own line), None if not even the first.
    """
    node, line = _compose(text), None
    for part in key:
        if isinstance(node, yaml.MappingNode):
            found = [(k, v) for k, v in node.value
                     if isinstance(k, yaml.ScalarNode) and k.value == str(part)]
            if not found:
                return line
            k, node = found[-1]  # the reader keeps the last of duplicated keys
            line = k.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and \
                0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def duplicate_key(text: str) -> Optional[Tuple[str, int, int]]:
    """``(key, first line, second line)`` of the first mapping key written twice in one
    mapping of ``text``, or None."""
    stack = [_compose(text)]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen = {}
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode):
                    if k.value in seen:
                        return k.value, seen[k.value], k.start_mark.line + 1
                    seen[k.value] = k.start_mark.line + 1
                stack.append(v)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None

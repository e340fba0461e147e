"""How hierarchy messages name levels and suggest a name: the words the metric prints.

The metric numbers levels from 1, finest first, and adds the level's name
("level 1 (texture)"); errors about a hierarchy use the same words, so a user can match an
error to a table of the evaluation log.
"""
import difflib
from typing import Iterable, Optional, Sequence


def level_label(level: int, level_names: Optional[Sequence[str]] = None) -> str:
    """``'level 2 (colour)'`` for the 0-based ``level`` 1; without a name (or with the
    default name ``level2``) just ``'level 2'``."""
    number = level + 1
    name = None
    if level_names is not None and 0 <= level < len(level_names) and \
            level_names[level] is not None:
        name = str(level_names[level])
    if name is None or name == f'level{number}':
        return f'level {number}'
    return f'level {number} ({name})'


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``' (did you mean 'pine'?)'`` for the closest of ``choices`` to ``word``, or ``''``
    when none is close (difflib's ratio >= 0.6)."""
    matches = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f' (did you mean {matches[0]!r}?)' if matches else ''

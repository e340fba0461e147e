"""A class hierarchy as data: levels of class names, finest first, and parent links.

Everything the losses, heads, metric and visualisation need is derived here once, on
construction, as CPU tensors. Modules that use a table on the GPU register it as a
(non-persistent) buffer so that ``module.to(device)`` moves it.

Node layout (the layout of an HSSN head's ``V`` output channels): the ``C_0`` leaves first,
then the ``C_1`` nodes of level 1, and so on up to the coarsest level.
"""
from typing import Dict, List, Optional, Sequence

import torch

from .names import level_label


class HierarchyError(ValueError):
    """A class hierarchy that is malformed or does not fit what it is used with.

    ``key``: where in the dict form (``classes``, ``parents`` or ``groups``) the problem
    is, as a path of keys and list indices, e.g. ``('groups', 0, 'warm', 1)``; a file
    loader turns it into the file's line. None where no single place is to blame.
    """

    def __init__(self, message: str, key: Optional[tuple] = None):
        super().__init__(message)
        self.key = key


class ClassHierarchy:
    """A tree (or forest) of classes with all leaves at level 0.

    Args:
        classes (Sequence[Sequence[str]]): class names per level, finest first.
            ``classes[0]`` are the leaf classes in the order of the data set's label ids.
        parents (Sequence[Sequence[int]]): ``parents[l][i]`` is the index, within level
            ``l + 1``, of the parent of node ``i`` of level ``l``. One list per level except
            the coarsest.
        level_names (Sequence[str], optional): a name per level, finest first, used in logs
            and metric tables. Defaults to ``level1, level2, ...``.
        name (str): a name for the hierarchy, used in messages.

    The coarsest level may hold several nodes; they then hang from one implicit root,
    which counts for tree distances (so two leaves under different top nodes are
    ``2 * num_levels`` edges apart) but has no output channel.
    """

    def __init__(self,
                 classes: Sequence[Sequence[str]],
                 parents: Sequence[Sequence[int]],
                 level_names: Optional[Sequence[str]] = None,
                 name: str = 'custom'):
        self.name = name
        self.classes = tuple(tuple(str(c) for c in level) for level in classes)
        self.parents = tuple(tuple(int(p) for p in level) for level in parents)
        if level_names is None:
            level_names = [f'level{i + 1}' for i in range(len(self.classes))]
        self.level_names = tuple(str(n) for n in level_names)
        self._validate()
        self._build_tables()

    # ------------------------------------------------------------------ validation
    def _fail(self, message: str, key: Optional[tuple] = None):
        raise HierarchyError(f'class hierarchy {self.name!r}: {message}', key)

    def _validate(self):
        if len(self.classes) == 0:
            self._fail('it has no levels')
        for level, names in enumerate(self.classes):
            if len(names) == 0:
                self._fail(f'{self.level_label(level)} is empty', ('classes', level))
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                second = [i for i, n in enumerate(names) if n == duplicates[0]][1]
                self._fail(f'{self.level_label(level)} names {duplicates} more than once',
                           ('classes', level, second))
        if len(self.level_names) != len(self.classes):
            self._fail(f'{len(self.level_names)} level names given for '
                       f'{len(self.classes)} levels', ('level_names', ))
        if len(self.parents) != len(self.classes) - 1:
            self._fail(f'{len(self.classes)} levels need {len(self.classes) - 1} parent '
                       f'lists (one per level except the coarsest), got {len(self.parents)}',
                       ('parents', ))
        for level, links in enumerate(self.parents):
            size, coarser = len(self.classes[level]), len(self.classes[level + 1])
            below, above = self.level_label(level), self.level_label(level + 1)
            if len(links) != size:
                self._fail(f'parents[{level}] has {len(links)} entries but {below} has '
                           f'{size} classes', ('parents', level))
            for node, parent in enumerate(links):
                if not 0 <= parent < coarser:
                    self._fail(f'parent of {self.classes[level][node]!r} ({below}) is '
                               f'{parent}, outside the range 0..{coarser - 1} of {above}',
                               ('parents', level, node))
            childless = sorted(set(range(coarser)) - set(links))
            if childless:
                names = [self.classes[level + 1][i] for i in childless]
                self._fail(f'{above} nodes {names} have no children in {below}; every '
                           f'coarser node must group at least one class',
                           ('classes', level + 1, childless[0]))

    def level_label(self, level: int) -> str:
        """``'level 1 (texture)'``: the 0-based ``level`` as the metric prints it."""
        names = self.level_names if len(self.level_names) == len(self.classes) else None
        return level_label(level, names)

    # ------------------------------------------------------------------ tables
    def _build_tables(self):
        sizes = [len(level) for level in self.classes]
        self.num_levels = len(sizes)
        self.level_sizes = tuple(sizes)
        offsets = [0]
        for size in sizes[:-1]:
            offsets.append(offsets[-1] + size)
        self.level_offsets = tuple(offsets)
        self.num_nodes = sum(sizes)
        self.num_leaves = sizes[0]
        # Height of the tree measured from the leaves to the (possibly implicit) root.
        self.height = self.num_levels if sizes[-1] > 1 else self.num_levels - 1

        # leaf_to_level[l, c]: index within level l of the level-l ancestor of leaf c.
        rows = [list(range(sizes[0]))]
        for links in self.parents:
            rows.append([links[i] for i in rows[-1]])
        self.leaf_to_level = torch.tensor(rows, dtype=torch.long)
        # leaf_to_node[l, c]: the same as a global node index (the leaf's root-to-leaf path).
        self.leaf_to_node = self.leaf_to_level + torch.tensor(offsets).view(-1, 1)

        # parent_index[l]: global index of each level-l node's parent (levels 0..L-2).
        self.parent_index = [
            torch.tensor(links, dtype=torch.long) + offsets[level + 1]
            for level, links in enumerate(self.parents)
        ]
        # children_order[l]: the level-l nodes (indices within level l) grouped by parent,
        # parents in order; num_children[l][p]: the size of parent p's group. Reductions
        # over children read a level in this order as contiguous segments.
        self.children_order = [torch.tensor(sorted(range(len(links)), key=links.__getitem__),
                                            dtype=torch.long) for links in self.parents]
        self.num_children = [torch.bincount(torch.tensor(links), minlength=sizes[level + 1])
                             for level, links in enumerate(self.parents)]

        # leaf_distance[a, b]: edges on the tree path between leaves a and b. Two leaves
        # that first share an ancestor at level l are 2 * l apart; leaves under different
        # top nodes meet at the implicit root, 2 * num_levels apart.
        same = self.leaf_to_level[:, :, None] == self.leaf_to_level[:, None, :]  # [L, C, C]
        first_shared = torch.where(
            same.any(0),
            same.float().argmax(0),
            torch.full(same.shape[1:], self.num_levels, dtype=torch.long))
        self.leaf_distance = 2 * first_shared

    # ------------------------------------------------------------------ helpers
    def level_slice(self, level: int) -> slice:
        """The channels of ``level``'s nodes in the V-channel layout."""
        return slice(self.level_offsets[level], self.level_offsets[level] + self.level_sizes[level])

    def labels_at_level(self, leaf_labels: torch.Tensor, level: int,
                        ignore_index: int = 255) -> torch.Tensor:
        """Maps leaf labels (any shape) to ``level``; ``ignore_index`` stays ignored.

        Returns a new tensor; the input is never modified.

        Raises:
            HierarchyError: if a label is neither a leaf id nor ``ignore_index``.
        """
        self.check_leaf_labels(leaf_labels, ignore_index)
        valid = leaf_labels != ignore_index
        table = self.leaf_to_level[level].to(leaf_labels.device)
        safe = torch.where(valid, leaf_labels, torch.zeros_like(leaf_labels)).long()
        return torch.where(valid, table[safe].to(leaf_labels.dtype), leaf_labels)

    def check_leaf_labels(self, leaf_labels: torch.Tensor, ignore_index: int = 255,
                          what: str = 'labels'):
        """Raises a clear error if a label is neither a leaf id nor ``ignore_index``."""
        if leaf_labels.is_floating_point() or leaf_labels.dtype == torch.bool:
            self._fail(f'{what} must be an integer tensor, got {leaf_labels.dtype}')
        # one pass and one host sync in the common case; the offending value is looked up
        # only when there is one
        outside = ((leaf_labels < 0) | (leaf_labels >= self.num_leaves)) & \
            (leaf_labels != ignore_index)
        if bool(outside.any()):
            bad = leaf_labels[outside]
            bad = int(bad.min()) if int(bad.min()) < 0 else int(bad.max())
            self._fail(f'{what}: label {bad} is outside the {self.num_leaves} leaf classes '
                       f'and is not the ignore index {ignore_index}')

    def check_num_classes(self, num_classes: int, what: str = 'the data set'):
        """Raises a clear error if ``num_classes`` is not the number of leaves."""
        if num_classes != self.num_leaves:
            self._fail(f'it has {self.num_leaves} leaf classes but {what} has {num_classes}')

    def check_num_nodes(self, num_channels: int, what: str = 'the head'):
        """Raises a clear error if ``num_channels`` is not the node count V."""
        if num_channels != self.num_nodes:
            self._fail(f'it has {self.num_nodes} nodes ({" + ".join(map(str, self.level_sizes))}) '
                       f'but {what} outputs {num_channels} channels')

    def check_classes(self, classes: Sequence[str], what: str = 'the data set'):
        """Raises a clear error if the leaf names differ from ``classes``."""
        self.check_num_classes(len(classes), what)
        if tuple(classes) != self.classes[0]:
            diff = [(i, a, b) for i, (a, b) in enumerate(zip(self.classes[0], classes)) if a != b]
            self._fail(f'its leaf classes differ from those of {what} at (index, hierarchy, '
                       f'data set) {diff[:5]}')

    def palette_at_level(self, leaf_palette: Sequence[Sequence[int]],
                         level: int) -> List[List[int]]:
        """A colour per node of ``level``: the colour of its first leaf."""
        first_leaf = {}
        for leaf, node in enumerate(self.leaf_to_level[level].tolist()):
            first_leaf.setdefault(node, leaf)
        return [list(leaf_palette[first_leaf[n]]) for n in range(self.level_sizes[level])]

    def to_dict(self) -> Dict:
        return dict(
            classes=[list(c) for c in self.classes],
            parents=[list(p) for p in self.parents],
            level_names=list(self.level_names),
            name=self.name)

    def __eq__(self, other) -> bool:
        return isinstance(other, ClassHierarchy) and self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash((self.classes, self.parents, self.level_names))

    def __repr__(self) -> str:
        sizes = ' -> '.join(str(s) for s in self.level_sizes)
        return f'ClassHierarchy({self.name!r}, {self.num_levels} levels: {sizes})'

"""The hierarchies hieraseg ships, by name. Leaf order is the data sets' train-id order."""
from typing import Callable, Dict, List, Sequence, Tuple

from .tree import ClassHierarchy, HierarchyError


def _from_groups(leaves: Sequence[str], groups: Sequence[Tuple[str, Sequence[str]]]
                 ) -> Tuple[List[str], List[int]]:
    """Parent links of ``leaves`` from ``(group name, member names)`` pairs.

    Raises:
        HierarchyError: if a leaf is in no group or in more than one.
    """
    parent_of: Dict[str, int] = {}
    for index, (_, members) in enumerate(groups):
        for member in members:
            if member in parent_of:
                raise HierarchyError(f'{member!r} is put in two groups')
            if member not in leaves:
                raise HierarchyError(f'{member!r} is not one of the classes being grouped')
            parent_of[member] = index
    missing = [leaf for leaf in leaves if leaf not in parent_of]
    if missing:
        raise HierarchyError(f'classes {missing} are in no group')
    return [name for name, _ in groups], [parent_of[leaf] for leaf in leaves]


def _grouped(name: str, levels: Sequence[Tuple[str, Sequence[str]]],
             groupings: Sequence[Sequence[Tuple[str, Sequence[str]]]]) -> ClassHierarchy:
    """A hierarchy from the leaf names and, per coarser level, named groups of the level
    below. ``levels`` gives ``(level name, leaf classes)`` for level 0 and the names of the
    coarser levels as ``(level name, ())``."""
    classes = [list(levels[0][1])]
    parents = []
    for grouping in groupings:
        coarser, links = _from_groups(classes[-1], grouping)
        classes.append(coarser)
        parents.append(links)
    return ClassHierarchy(classes, parents, level_names=[n for n, _ in levels], name=name)


CITYSCAPES_CLASSES = (
    'road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign',
    'vegetation', 'terrain', 'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train',
    'motorcycle', 'bicycle')


def cityscapes() -> ClassHierarchy:
    """Cityscapes 19 classes -> 7 categories (the official category grouping)."""
    return _grouped('cityscapes', [('class', CITYSCAPES_CLASSES), ('category', ())], [[
        ('flat', ['road', 'sidewalk']),
        ('construction', ['building', 'wall', 'fence']),
        ('object', ['pole', 'traffic light', 'traffic sign']),
        ('nature', ['vegetation', 'terrain']),
        ('sky', ['sky']),
        ('human', ['person', 'rider']),
        ('vehicle', ['car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle']),
    ]])


PASCAL_PERSON_PART_CLASSES = ('background', 'head', 'torso', 'upper arm', 'lower arm',
                              'upper leg', 'lower leg')


def pascal_person_part() -> ClassHierarchy:
    """PASCAL-Person-Part: 7 parts -> upper / lower body -> person (HSSN's hierarchy)."""
    return _grouped('pascal_person_part',
                    [('part', PASCAL_PERSON_PART_CLASSES), ('body half', ()), ('person', ())], [
                        [('background', ['background']),
                         ('upper body', ['head', 'torso', 'upper arm', 'lower arm']),
                         ('lower body', ['upper leg', 'lower leg'])],
                        [('background', ['background']),
                         ('person', ['upper body', 'lower body'])],
                    ])


LIP_CLASSES = ('Background', 'Hat', 'Hair', 'Glove', 'Sunglasses', 'UpperClothes', 'Dress',
               'Coat', 'Socks', 'Pants', 'Jumpsuits', 'Scarf', 'Skirt', 'Face', 'Left-arm',
               'Right-arm', 'Left-leg', 'Right-leg', 'Left-shoe', 'Right-shoe')


def lip() -> ClassHierarchy:
    """LIP: 20 classes -> upper / lower body -> person (HSSN's hierarchy)."""
    return _grouped('lip', [('part', LIP_CLASSES), ('body half', ()), ('person', ())], [
        [('background', ['Background']),
         ('upper body', ['Hat', 'Hair', 'Glove', 'Sunglasses', 'UpperClothes', 'Dress', 'Coat',
                         'Jumpsuits', 'Scarf', 'Face', 'Left-arm', 'Right-arm']),
         ('lower body', ['Socks', 'Pants', 'Skirt', 'Left-leg', 'Right-leg', 'Left-shoe',
                         'Right-shoe'])],
        [('background', ['background']), ('person', ['upper body', 'lower body'])],
    ])


# Left/right label pairs of LIP, swapped by a horizontal flip.
LIP_FLIP_PAIRS = ((14, 15), (16, 17), (18, 19))

MAPILLARY_V2_CLASSES = (
    'Bird', 'Ground Animal', 'Ambiguous Barrier', 'Concrete Block', 'Curb', 'Fence',
    'Guard Rail', 'Barrier', 'Road Median', 'Road Side', 'Lane Separator', 'Temporary Barrier',
    'Wall', 'Bike Lane', 'Crosswalk - Plain', 'Curb Cut', 'Driveway', 'Parking',
    'Parking Aisle', 'Pedestrian Area', 'Rail Track', 'Road', 'Road Shoulder', 'Service Lane',
    'Sidewalk', 'Traffic Island', 'Bridge', 'Building', 'Garage', 'Tunnel', 'Person',
    'Person Group', 'Bicyclist', 'Motorcyclist', 'Other Rider', 'Lane Marking - Dashed Line',
    'Lane Marking - Straight Line', 'Lane Marking - Zigzag Line', 'Lane Marking - Ambiguous',
    'Lane Marking - Arrow (Left)', 'Lane Marking - Arrow (Other)',
    'Lane Marking - Arrow (Right)', 'Lane Marking - Arrow (Split Left or Straight)',
    'Lane Marking - Arrow (Split Right or Straight)', 'Lane Marking - Arrow (Straight)',
    'Lane Marking - Crosswalk', 'Lane Marking - Give Way (Row)',
    'Lane Marking - Give Way (Single)', 'Lane Marking - Hatched (Chevron)',
    'Lane Marking - Hatched (Diagonal)', 'Lane Marking - Other', 'Lane Marking - Stop Line',
    'Lane Marking - Symbol (Bicycle)', 'Lane Marking - Symbol (Other)', 'Lane Marking - Text',
    'Lane Marking (only) - Dashed Line', 'Lane Marking (only) - Crosswalk',
    'Lane Marking (only) - Other', 'Lane Marking (only) - Test', 'Mountain', 'Sand', 'Sky',
    'Snow', 'Terrain', 'Vegetation', 'Water', 'Banner', 'Bench', 'Bike Rack', 'Catch Basin',
    'CCTV Camera', 'Fire Hydrant', 'Junction Box', 'Mailbox', 'Manhole', 'Parking Meter',
    'Phone Booth', 'Pothole', 'Signage - Advertisement', 'Signage - Ambiguous',
    'Signage - Back', 'Signage - Information', 'Signage - Other', 'Signage - Store',
    'Street Light', 'Pole', 'Pole Group', 'Traffic Sign Frame', 'Utility Pole', 'Traffic Cone',
    'Traffic Light - General (Single)', 'Traffic Light - Pedestrians',
    'Traffic Light - General (Upright)', 'Traffic Light - General (Horizontal)',
    'Traffic Light - Cyclists', 'Traffic Light - Other', 'Traffic Sign - Ambiguous',
    'Traffic Sign (Back)', 'Traffic Sign - Direction (Back)',
    'Traffic Sign - Direction (Front)', 'Traffic Sign (Front)', 'Traffic Sign - Parking',
    'Traffic Sign - Temporary (Back)', 'Traffic Sign - Temporary (Front)', 'Trash Can',
    'Bicycle', 'Boat', 'Bus', 'Car', 'Caravan', 'Motorcycle', 'On Rails', 'Other Vehicle',
    'Trailer', 'Truck', 'Vehicle Group', 'Wheeled Slow', 'Water Valve', 'Car Mount', 'Dynamic',
    'Ego Vehicle', 'Ground', 'Static', 'Unlabeled',
)


def mapillary_v2() -> ClassHierarchy:
    """Mapillary Vistas 2.0: 124 classes -> 16 groups -> 4 (hieraseg's own mapping).

    HSSN does not publish the grouping it used; this one is ours (see README).
    """
    names = MAPILLARY_V2_CLASSES

    def starting(prefix: str, exclude: Sequence[str] = ()) -> List[str]:
        return [n for n in names if n.startswith(prefix) and n not in exclude]

    marking_only = starting('Lane Marking (only)')
    groups = [
        ('animal', ['Bird', 'Ground Animal']),
        ('barrier', ['Ambiguous Barrier', 'Concrete Block', 'Curb', 'Fence', 'Guard Rail',
                     'Barrier', 'Road Median', 'Road Side', 'Lane Separator',
                     'Temporary Barrier', 'Wall']),
        ('flat', ['Bike Lane', 'Crosswalk - Plain', 'Curb Cut', 'Driveway', 'Parking',
                  'Parking Aisle', 'Pedestrian Area', 'Rail Track', 'Road', 'Road Shoulder',
                  'Service Lane', 'Sidewalk', 'Traffic Island']),
        ('structure', ['Bridge', 'Building', 'Garage', 'Tunnel']),
        ('person', ['Person', 'Person Group']),
        ('rider', ['Bicyclist', 'Motorcyclist', 'Other Rider']),
        ('marking-only', marking_only),
        ('marking', starting('Lane Marking', exclude=marking_only)),
        ('nature', ['Mountain', 'Sand', 'Sky', 'Snow', 'Terrain', 'Vegetation', 'Water']),
        ('support', ['Pole', 'Pole Group', 'Traffic Sign Frame', 'Utility Pole']),
        ('signage', starting('Signage')),
        ('traffic light', starting('Traffic Light')),
        ('traffic sign', starting('Traffic Sign', exclude=['Traffic Sign Frame'])),
        ('vehicle', ['Bicycle', 'Boat', 'Bus', 'Car', 'Caravan', 'Motorcycle', 'On Rails',
                     'Other Vehicle', 'Trailer', 'Truck', 'Vehicle Group', 'Wheeled Slow']),
        ('void', ['Car Mount', 'Dynamic', 'Ego Vehicle', 'Ground', 'Static', 'Unlabeled']),
        ('street furniture', ['Banner', 'Bench', 'Bike Rack', 'Catch Basin', 'CCTV Camera',
                              'Fire Hydrant', 'Junction Box', 'Mailbox', 'Manhole',
                              'Parking Meter', 'Phone Booth', 'Pothole', 'Street Light',
                              'Traffic Cone', 'Trash Can', 'Water Valve']),
    ]
    return _grouped('mapillary_v2', [('class', names), ('group', ()), ('category', ())], [
        groups,
        [('living', ['animal', 'person', 'rider']),
         ('construction', ['barrier', 'flat', 'structure', 'marking', 'marking-only']),
         ('nature', ['nature']),
         ('object', ['support', 'signage', 'traffic light', 'traffic sign', 'street furniture',
                     'vehicle', 'void'])],
    ])


TOY_SHAPES_CLASSES = ('background', 'warm plain', 'warm striped', 'cool plain', 'cool striped',
                      'cool dotted')


def toy_shapes() -> ClassHierarchy:
    """The generated toy data set: texture classes grouped by colour family."""
    return _grouped('toy_shapes', [('texture', TOY_SHAPES_CLASSES), ('colour', ())], [[
        ('background', ['background']),
        ('warm', ['warm plain', 'warm striped']),
        ('cool', ['cool plain', 'cool striped', 'cool dotted']),
    ]])


BUILTIN_HIERARCHIES: Dict[str, Callable[[], ClassHierarchy]] = {
    'cityscapes': cityscapes,
    'pascal_person_part': pascal_person_part,
    'lip': lip,
    'mapillary_v2': mapillary_v2,
    'toy_shapes': toy_shapes,
}

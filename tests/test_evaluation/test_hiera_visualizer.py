"""The --show-dir pictures: titled panels and a legend of the classes present."""
import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from hieraseg.hierarchy import TOY_SHAPES_CLASSES
from hieraseg.visualization import HieraSegLocalVisualizer

PALETTE = [[0, 0, 0], [250, 0, 0], [0, 250, 0], [0, 0, 250], [250, 250, 0], [0, 250, 250]]


def test_titles_and_legend_beside_the_panels_not_over_them(tmp_path):
    visualizer = HieraSegLocalVisualizer(name='vis_titles', min_side=64, alpha=1.0)
    visualizer.dataset_meta = dict(classes=TOY_SHAPES_CLASSES, palette=PALETTE,
                                   hierarchy='toy_shapes')
    gt = torch.zeros(1, 16, 16, dtype=torch.long)
    gt[:, :, 8:] = 1  # background | warm plain
    pred = gt.clone()
    pred[:, 8:, :] = 3  # cool plain
    sample = SegDataSample(gt_sem_seg=PixelData(data=gt), pred_sem_seg=PixelData(data=pred))
    image = np.full((16, 16, 3), 128, np.uint8)
    drawn = visualizer.draw_levels(image, sample, visualizer._resolve_hierarchy())

    row = drawn.shape[0] // 2  # two levels
    title = row - 64
    assert 8 < title < 40 and drawn.shape[1] > 2 * 64
    panels, legend = drawn[:, :2 * 64], drawn[:, 2 * 64:]
    # the titles are dark text on white, above the panels
    assert (panels[:title] < 100).any() and (panels[:title] == 255).mean() > 0.6
    # the panels hold only class colours, no drawn text: gt left half background, right
    # half warm plain (red), the boundary between them in white
    cell = panels[title:row, :64]
    assert (cell[:, :31] == 0).all() and (cell[:, 32:] == [250, 0, 0]).all()
    assert (cell[:, 31] == 255).all()
    # the texture legend shows the three classes present and no other one
    colours = {tuple(c) for c in legend[:row].reshape(-1, 3)}
    assert {(250, 0, 0), (0, 0, 250), (0, 0, 0)} <= colours
    assert (0, 250, 0) not in colours and (250, 250, 0) not in colours
    # the colour level's legend: background, warm (red), cool (blue: first cool leaf)
    colours = {tuple(c) for c in legend[row:].reshape(-1, 3)}
    assert {(250, 0, 0), (0, 0, 250)} <= colours


def test_overlay_keeps_the_image_and_uses_the_hierarchy_palette_without_a_data_set_one():
    from hieraseg.hierarchy import build_hierarchy
    from hieraseg.visualization.palette import hierarchy_palette
    visualizer = HieraSegLocalVisualizer(name='vis_overlay', min_side=16)
    assert visualizer.alpha == 0.5  # the image shows through every class
    visualizer.dataset_meta = dict(classes=TOY_SHAPES_CLASSES, hierarchy='toy_shapes')
    levels = hierarchy_palette(build_hierarchy('toy_shapes'))
    assert visualizer.level_palettes(build_hierarchy('toy_shapes')) == levels
    gt = torch.full((1, 16, 16), 255, dtype=torch.long)
    gt[:, :, 8:] = 2  # warm striped; the left half ignored
    sample = SegDataSample(gt_sem_seg=PixelData(data=gt))
    image = np.full((16, 16, 3), 100, np.uint8)
    drawn = visualizer.draw_levels(image, sample, visualizer._resolve_hierarchy(),
                                   with_labels=False)
    row = drawn.shape[0] // 2
    texture, colour = drawn[row - 16:row], drawn[-16:]
    assert (texture[:, :7] == 100).all()  # ignored: the image as it is, not darkened
    blend = np.round((100 + np.asarray(levels[0][2])) / 2)
    assert (texture[:, 8:] == blend).all()
    assert (colour[:, 8:] == np.round((100 + np.asarray(levels[1][1])) / 2)).all()
    assert (texture[:, 7] == 255).all()  # the boundary


def test_a_data_set_palette_is_kept():
    from hieraseg.hierarchy import build_hierarchy
    visualizer = HieraSegLocalVisualizer(name='vis_own_palette')
    visualizer.dataset_meta = dict(classes=TOY_SHAPES_CLASSES, palette=PALETTE,
                                   hierarchy='toy_shapes')
    texture, colour = visualizer.level_palettes(build_hierarchy('toy_shapes'))
    assert texture == PALETTE
    assert colour == [PALETTE[0], PALETTE[1], PALETTE[3]]  # each family's first leaf

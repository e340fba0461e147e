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
    # the panels hold only image colours, no drawn text: gt left half background, right
    # half warm plain (red)
    cell = panels[title:row, :64]
    assert (cell[:, :32] == 0).all() and (cell[:, 32:] == [250, 0, 0]).all()
    # the texture legend shows the three classes present and no other one
    colours = {tuple(c) for c in legend[:row].reshape(-1, 3)}
    assert {(250, 0, 0), (0, 0, 250), (0, 0, 0)} <= colours
    assert (0, 250, 0) not in colours and (250, 250, 0) not in colours
    # the colour level's legend: background, warm (red), cool (blue: first cool leaf)
    colours = {tuple(c) for c in legend[row:].reshape(-1, 3)}
    assert {(250, 0, 0), (0, 0, 250)} <= colours

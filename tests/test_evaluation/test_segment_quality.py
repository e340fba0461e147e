"""The segment-quality measure of the CAST toy comparison, on cases with exact answers."""
import pytest
import torch

from hieraseg.evaluation import best_match_iou, kmeans, mean_best_match_iou, patch_segments
from hieraseg.evaluation.segment_quality import superpixel_ceiling_iou


def square_mask():
    mask = torch.zeros(4, 4, dtype=torch.bool)
    mask[:2, :2] = True  # 4 pixels, top left
    return mask


def test_best_match_iou_exact_values():
    halves = torch.tensor([[0, 0, 1, 1]] * 4)  # left half: 8 px holding the 4 mask px
    assert best_match_iou(square_mask(), halves) == pytest.approx(4 / 8)
    quadrants = torch.tensor([[0, 0, 1, 1]] * 2 + [[2, 2, 3, 3]] * 2)
    assert best_match_iou(square_mask(), quadrants) == 1.0
    one = torch.zeros(4, 4, dtype=torch.long)  # everything one segment: 4 / 16
    assert best_match_iou(square_mask(), one) == pytest.approx(0.25)
    padded = one.clone()
    padded[2:] = -1  # padding is no segment: 4 / 8
    assert best_match_iou(square_mask(), padded) == pytest.approx(0.5)
    assert mean_best_match_iou([square_mask()] * 2, [halves, quadrants]) == pytest.approx(0.75)


def test_superpixel_ceiling_takes_segments_mostly_inside():
    quadrants = torch.tensor([[0, 0, 1, 1]] * 2 + [[2, 2, 3, 3]] * 2)
    mask = square_mask()
    mask[0, 2] = True  # one pixel of quadrant 1 (a quarter of it): not taken
    assert superpixel_ceiling_iou(mask, quadrants) == pytest.approx(4 / 5)
    assert best_match_iou(mask, quadrants) == pytest.approx(4 / 5)


def test_size_mismatch_is_an_error():
    with pytest.raises(ValueError, match=r'mask \(4, 4\) and segments \(4, 5\) differ'):
        best_match_iou(square_mask(), torch.zeros(4, 5, dtype=torch.long))


def test_kmeans_separates_clear_groups_and_checks_k():
    torch.manual_seed(0)
    directions = torch.eye(3) * 10
    truth = torch.tensor([0, 1, 2] * 5)
    points = (directions[truth] + 0.1 * torch.randn(15, 3))[None].repeat(2, 1, 1)
    labels = kmeans(points, 3, generator=torch.Generator().manual_seed(0))
    assert labels.shape == (2, 15)
    for b in range(2):  # the same partition as the truth, any numbering
        pairs = torch.unique(torch.stack([labels[b], truth]), dim=1)
        assert pairs.shape[1] == 3
    with pytest.raises(ValueError, match='kmeans: 16 clusters asked of 15 points'):
        kmeans(points, 16)


def test_patch_segments_upsample_the_grid():
    labels = torch.tensor([[0, 1, 2, 3]])
    segments = patch_segments(labels, (2, 2), (4, 4))
    assert torch.equal(segments[0], torch.tensor([[0, 0, 1, 1]] * 2 + [[2, 2, 3, 3]] * 2))

"""The vectorised nearest-sample search, the pixel geometry and the colour shades."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hieraseg.explain.drawing import sub_centroid_colour_map, sub_centroid_shades
from hieraseg.explain.exemplar_search import NearestSampleSearch, feature_pixel_grid
from hieraseg.explain.explain import image_to_feature_index


def test_search_matches_brute_force_over_batches():
    gen = torch.Generator().manual_seed(0)
    num_classes, k_count, dim = 5, 3, 8
    centroids = F.normalize(torch.randn(num_classes, k_count, dim, generator=gen), dim=-1)
    features = F.normalize(torch.randn(300, dim, generator=gen), dim=1)
    labels = torch.randint(0, num_classes - 1, (300, ), generator=gen)  # class 4 absent
    labels[::7] = 255  # ignored
    labels[3] = -1
    ids = torch.arange(300)[:, None] * 10  # info rows
    search = NearestSampleSearch(centroids, info_width=1, chunk_size=16)
    for part in torch.arange(300).split(37):
        search.update(features[part], labels[part], ids[part])

    sims = features @ centroids.reshape(-1, dim).t()
    for c in range(num_classes):
        own = (labels == c).nonzero().flatten()
        for k in range(k_count):
            if own.numel() == 0:
                assert not search.found[c, k] and search.similarity[c, k] == float('-inf')
                continue
            column = sims[own, c * k_count + k]
            winner = own[column.argmax()]
            assert search.found[c, k]
            assert search.similarity[c, k] == pytest.approx(float(column.max()), abs=1e-6)
            assert int(search.info[c, k, 0]) == int(winner) * 10
            torch.testing.assert_close(search.features[c, k], features[winner])


def test_search_ties_go_to_the_first_sample():
    centroids = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]])  # C=2, K=1
    same = torch.tensor([[1.0, 0.0]] * 4)
    search = NearestSampleSearch(centroids, info_width=1)
    search.update(same[:2], torch.tensor([0, 0]), torch.tensor([[5], [6]]))
    search.update(same[2:], torch.tensor([0, 0]), torch.tensor([[7], [8]]))
    assert int(search.info[0, 0, 0]) == 5
    assert search.found.tolist() == [[True], [False]]


def test_feature_pixel_grid_maps_cell_centres_and_marks_padding():
    # a 4x6 map over a 32x48 input whose image is its top-left 24x48, from a 48x96 original
    rows, cols, valid_rows, valid_cols = feature_pixel_grid((4, 6), (32, 48), (24, 48),
                                                            (48, 96))
    assert rows.tolist() == [8, 24, 40, 47]  # centres 4, 12, 20 (x2), 28 is padding
    assert valid_rows.tolist() == [True, True, True, False]
    assert cols.tolist() == [8, 24, 40, 56, 72, 88]
    assert valid_cols.all()


def test_image_to_feature_index_inverts_the_grid():
    index = image_to_feature_index(out_size=48, img_size=24, in_size=32, feat_size=4)
    assert index.tolist() == [0] * 16 + [1] * 16 + [2] * 16  # the padded cell 3 unused
    rows, _, _, _ = feature_pixel_grid((4, 1), (32, 1), (24, 1), (48, 1))
    assert [int(index[r]) for r in rows[:3]] == [0, 1, 2]


def test_shades_keep_the_hue_and_are_distinct():
    shades = sub_centroid_shades([230, 40, 30], 4)
    assert shades.shape == (4, 3) and shades.dtype == np.uint8
    assert len({tuple(s) for s in shades}) == 4
    assert (shades[:, 0] >= shades[:, 1]).all()  # still red
    assert shades.sum(1).tolist() == sorted(shades.sum(1).tolist())  # dark to light
    assert sub_centroid_shades([1, 2, 3], 1).tolist() == [[1, 2, 3]]
    grey = sub_centroid_shades([0, 0, 0], 3)  # black gets greys
    assert len({tuple(s) for s in grey}) == 3
    assert sub_centroid_colour_map([[0, 0, 0], [0, 255, 0]], 5).shape == (2, 5, 3)

"""Segment pooling, painting and relabelling against loop references written here."""
import pytest
import torch

from hieraseg.models.backbones.cast import (check_superpixels, paint_segments,
                                            relabel_superpixels, segment_pool)


def random_superpixels(B, H, W, S, seed=0, pad_rows=0):
    g = torch.Generator().manual_seed(seed)
    sp = torch.randint(0, S, (B, H, W), generator=g)
    if pad_rows:
        sp[-1, -pad_rows:] = -1
    return sp


def upsample_nearest(feats, H, W):
    """Each pixel takes the feature cell (y * h // H, x * w // W)."""
    h, w = feats.shape[-2:]
    ys = torch.arange(H) * h // H
    xs = torch.arange(W) * w // W
    return feats[:, :, ys][:, :, :, xs]


@pytest.mark.parametrize('H,W,h,w', [(16, 16, 4, 4), (13, 10, 4, 3), (8, 8, 8, 8)])
def test_pool_equals_loop_reference(H, W, h, w):
    B, C, S = 2, 5, 7
    feats = torch.randn(B, C, h, w, dtype=torch.float64)
    sp = random_superpixels(B, H, W, S, pad_rows=2)
    sp[0][sp[0] == 3] = 4  # image 0 has no segment 3
    tokens, valid, counts = segment_pool(feats, sp)
    assert tokens.shape == (B, S, C) and valid.shape == (B, S)
    up = upsample_nearest(feats, H, W)
    for b in range(B):
        for s in range(S):
            sel = sp[b] == s
            assert bool(valid[b, s]) == bool(sel.any())
            if sel.any():
                ref = up[b][:, sel].mean(dim=1)
                torch.testing.assert_close(tokens[b, s], ref)
            else:
                assert torch.all(tokens[b, s] == 0)
    assert counts.sum() == (sp >= 0).sum()


def test_paint_equals_loop_reference():
    B, C, S, H, W, h, w = 2, 3, 5, 12, 12, 4, 4
    sp = random_superpixels(B, H, W, S, seed=1, pad_rows=4)
    tokens = torch.randn(B, S, C, dtype=torch.float64)
    _, _, counts = segment_pool(torch.zeros(B, C, h, w, dtype=torch.float64), sp)
    out = paint_segments(tokens, counts, (h, w))
    for b in range(B):
        for i in range(h):
            for j in range(w):
                cell = sp[b, i * H // h:(i + 1) * H // h, j * W // w:(j + 1) * W // w]
                ids = cell[cell >= 0]
                ref = tokens[b, ids].mean(0) if ids.numel() else torch.zeros(C, dtype=torch.float64)
                torch.testing.assert_close(out[b, :, i, j], ref)


def test_relabel_makes_ids_contiguous_per_image():
    sp = torch.tensor([[[5, 5, 9], [2, -1, 9]], [[0, 7, 7], [-1, -1, 3]]])
    out = relabel_superpixels(sp)
    assert out.tolist() == [[[1, 1, 2], [0, -1, 2]], [[0, 2, 2], [-1, -1, 1]]]
    no_pad = relabel_superpixels(torch.tensor([[[4, 6], [6, 8]]]))
    assert no_pad.tolist() == [[[0, 1], [1, 2]]]


def test_check_superpixels_errors():
    with pytest.raises(ValueError, match='Superpixels` transform'):
        check_superpixels(None, (8, 8), 1)
    with pytest.raises(ValueError, match=r'\(8, 6\) differs from the image size \(8, 8\)'):
        check_superpixels(torch.zeros(1, 8, 6, dtype=torch.long), (8, 8), 1)
    with pytest.raises(ValueError, match='integer ids'):
        check_superpixels(torch.zeros(1, 8, 8), (8, 8), 1)
    with pytest.raises(ValueError, match='no superpixel'):
        check_superpixels(torch.full((1, 8, 8), -1), (8, 8), 1)

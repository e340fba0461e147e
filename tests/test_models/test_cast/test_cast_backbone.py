"""CAST backbone: registries, output shapes, padding independence and bad inputs."""
import pytest
import torch
from mmpretrain.registry import MODELS as PRETRAIN_MODELS
from mmseg.registry import MODELS as SEG_MODELS

from hieraseg.models.backbones import CAST


def grid_superpixels(B, H, W, cell):
    cols = (W + cell - 1) // cell
    sp = (torch.arange(H)[:, None] // cell) * cols + torch.arange(W)[None] // cell
    return sp.expand(B, H, W).clone()


def tiny(**kwargs):
    torch.manual_seed(0)
    model = CAST(arch='tiny', **kwargs)
    model.init_weights()
    return model.eval()


def test_registered_in_both_registries():
    assert PRETRAIN_MODELS.get('CAST') is CAST
    assert SEG_MODELS.get('CAST') is CAST
    assert set(CAST.arch_zoo) == {'tiny', 'small', 'base'}


def test_cls_token_output_and_assignments():
    model = tiny()
    x, sp = torch.randn(2, 3, 48, 40), grid_superpixels(2, 48, 40, 6)  # 8 x 7 = 56 segments
    outs = model(x, sp)
    assert isinstance(outs, tuple) and len(outs) == 1 and outs[0].shape == (2, 96)
    outs2, assignments = model(x, sp, return_assignments=True)
    torch.testing.assert_close(outs2[0], outs[0])
    shapes = [tuple(a.shape) for a in assignments]
    assert shapes == [(2, 56, 16), (2, 16, 8), (2, 8, 4), (2, 4, 2)]
    for a in assignments:
        torch.testing.assert_close(a.sum(-1), torch.ones(a.shape[:2]))


def test_featmap_output_for_mmseg():
    model = tiny(out_type='featmap', out_indices=(0, 1, 2, 3))
    outs = model(torch.randn(2, 3, 64, 64), grid_superpixels(2, 64, 64, 8))
    assert [tuple(o.shape) for o in outs] == [(2, 96, 16, 16)] * 4


def test_padded_superpixels_do_not_change_an_image():
    """An image batched with one that has more superpixels (its token slots padded and
    masked in attention, FPS and assignments) gives the same class token as alone."""
    model = tiny()
    x = torch.randn(2, 3, 48, 48)
    sp = torch.stack([grid_superpixels(1, 48, 48, 8)[0], grid_superpixels(1, 48, 48, 6)[0]])
    batched, assign = model(x, sp, return_assignments=True)
    alone, assign_alone = model(x[:1], sp[:1], return_assignments=True)
    torch.testing.assert_close(batched[0][0], alone[0][0], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(assign[1][0], assign_alone[1][0], rtol=1e-4, atol=1e-5)
    assert torch.all(assign[0][0, 36:] == 0)  # image 0 has 36 superpixels of 64 slots


def test_padding_pixels_add_no_tokens():
    model = tiny()
    x = torch.randn(1, 3, 48, 48)
    sp = grid_superpixels(1, 48, 48, 6)
    sp_pad = torch.full((1, 56, 56), -1, dtype=torch.long)
    sp_pad[:, :48, :48] = sp
    x_pad = torch.zeros(1, 3, 56, 56)
    x_pad[:, :, :48, :48] = x
    a = model(x, sp, return_assignments=True)[1]
    b = model(x_pad, sp_pad, return_assignments=True)[1]
    assert a[0].shape == b[0].shape  # same superpixels, same token count


def test_bad_inputs():
    model = tiny()
    x = torch.randn(1, 3, 32, 32)
    with pytest.raises(ValueError, match='lacks the `Superpixels` transform'):
        model(x)
    with pytest.raises(ValueError, match=r'\(32, 30\) differs from the image size \(32, 32\)'):
        model(x, torch.zeros(1, 32, 30, dtype=torch.long))
    with pytest.raises(ValueError, match='16 clusters first but image 0 has only 4 superpixels'):
        model(x, grid_superpixels(1, 32, 32, 16))
    with pytest.raises(ValueError, match='stage 2 asks for 9 clusters but stage 1 leaves only 8'):
        CAST(arch='tiny', num_clusters=(16, 8, 9, 2))
    with pytest.raises(ValueError, match='unknown CAST arch'):
        CAST(arch='huge')

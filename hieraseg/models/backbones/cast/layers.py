"""CAST building blocks: convolutional stem, 2-D sin-cos positions, maskable ViT layer."""
from typing import Optional, Sequence

import torch
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmpretrain.models.backbones.vision_transformer import TransformerEncoderLayer
from torch import Tensor, nn

__all__ = ['ConvStem', 'sincos_pos_embed_2d', 'MaskedTransformerEncoderLayer']


class ConvStem(BaseModule):
    """Convolutional stem (Xiao et al., "Early convolutions help transformers see better").

    3x3 conv-BN-ReLU layers with the given strides, widths ``embed_dims / 8`` doubling
    per layer, then a 1x1 projection to ``embed_dims``. CAST uses strides (2, 2, 2, 1),
    i.e. features at 1/8 of the image.

    Args:
        in_channels (int): image channels.
        embed_dims (int): output channels (divisible by 8).
        strides (Sequence[int]): one per 3x3 layer.
        norm_cfg (dict): norm after each 3x3 conv. Defaults to BN.
    """

    def __init__(self, in_channels: int, embed_dims: int,
                 strides: Sequence[int] = (2, 2, 2, 1),
                 norm_cfg: dict = dict(type='BN'), init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if embed_dims % 8:
            raise ValueError(f'ConvStem needs embed_dims divisible by 8, got {embed_dims}')
        layers, cin, cout = [], in_channels, embed_dims // 8
        for stride in strides:
            layers.append(ConvModule(cin, cout, 3, stride=stride, padding=1, bias=False,
                                     norm_cfg=norm_cfg, act_cfg=dict(type='ReLU')))
            cin, cout = cout, cout * 2
        layers.append(nn.Conv2d(cin, embed_dims, 1))
        self.layers = nn.Sequential(*layers)
        self.stride = 1
        for s in strides:
            self.stride *= s

    def forward(self, x: Tensor) -> Tensor:
        """``[B, 3, H, W]`` -> ``[B, C, ceil(H/s), ceil(W/s)]``."""
        return self.layers(x)


def sincos_pos_embed_2d(h: int, w: int, dims: int, temperature: float = 10000.,
                        device=None, dtype=torch.float32) -> Tensor:
    """Fixed 2-D sin-cos positional embedding ``[1, dims, h, w]`` (as MoCo v3 / CAST).

    A quarter of the channels each: sin(x), cos(x), sin(y), cos(y) over geometric
    frequencies. Computed for any grid, so any image size works without interpolation.
    """
    if dims % 4:
        raise ValueError(f'2-D sin-cos positions need dims divisible by 4, got {dims}')
    quarter = dims // 4
    omega = 1. / temperature**(torch.arange(quarter, device=device, dtype=torch.float32)
                               / quarter)
    ys = torch.arange(h, device=device, dtype=torch.float32)
    xs = torch.arange(w, device=device, dtype=torch.float32)
    gy, gx = torch.meshgrid(ys, xs, indexing='ij')
    ox = gx.flatten()[:, None] * omega[None]
    oy = gy.flatten()[:, None] * omega[None]
    pos = torch.cat([ox.sin(), ox.cos(), oy.sin(), oy.cos()], dim=1)  # [h*w, dims]
    return pos.t().reshape(1, dims, h, w).to(dtype)


class MaskedTransformerEncoderLayer(TransformerEncoderLayer):
    """mmpretrain's :class:`TransformerEncoderLayer` with an optional key padding mask.

    Same parameters and state-dict names; without a mask it is the parent's forward.
    With ``key_padding_mask [B, N]`` (True = padded) no token attends to padded tokens.
    """

    def forward(self, x: Tensor, key_padding_mask: Optional[Tensor] = None) -> Tensor:
        if key_padding_mask is None or not bool(key_padding_mask.any()):
            return super().forward(x)
        attn = self.attn
        B, N, _ = x.shape
        qkv = attn.qkv(self.ln1(x)).reshape(B, N, 3, attn.num_heads,
                                            attn.head_dims).permute(2, 0, 3, 1, 4)
        mask = ~key_padding_mask[:, None, None, :]  # True = may attend
        out = attn.scaled_dot_product_attention(
            qkv[0], qkv[1], qkv[2], attn_mask=mask,
            dropout_p=attn.attn_drop if self.training else 0.)
        out = attn.proj(out.transpose(1, 2).reshape(B, N, attn.embed_dims))
        x = x + attn.out_drop(attn.gamma1(attn.proj_drop(out)))
        return self.ffn(self.ln2(x), identity=x)

"""CAST backbone: ViT over superpixel tokens with graph pooling between block groups."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule, ModuleList
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.registry import MODELS as PRETRAIN_MODELS
from mmseg.registry import MODELS as SEG_MODELS
from torch import Tensor, nn

from .graph_pool import GraphPooling
from .layers import ConvStem, MaskedTransformerEncoderLayer, sincos_pos_embed_2d
from .segment_pool import check_superpixels, paint_segments, segment_pool

__all__ = ['CAST']


@PRETRAIN_MODELS.register_module()
@SEG_MODELS.register_module()
class CAST(BaseModule):
    """CAST (Ke, Mo, Yu, ICLR 2024): segment tokens, ViT blocks and graph pooling.

    A convolutional stem (1/8 resolution) plus a fixed 2-D sin-cos positional embedding
    is averaged inside each superpixel into segment tokens (:func:`segment_pool`). A class
    token and the segment tokens go through ``len(depths)`` groups of ViT blocks; after
    group ``i`` a :class:`GraphPooling` coarsens the tokens to ``num_clusters[i]`` (e.g.
    196 superpixels -> 64 -> 32 -> 16 -> 8). The last pooling only computes its
    assignment (for the coarsest segmentation level), not coarse tokens.

    Architectures (``arch``; a dict with the same keys also works). ``small``/``base``
    follow the authors' ``cast_small``/``cast_base``: 11 blocks split (3, 3, 3, 2), 12
    heads, the conv stem standing in for the 12th block. ``tiny`` is a CPU toy.

    Args:
        arch (str | dict): ``'tiny'``, ``'small'``, ``'base'`` or a dict with
            ``embed_dims``, ``num_heads``, ``depths``, ``num_clusters``,
            ``feedforward_channels`` and optionally ``stem_strides``.
        in_channels (int): image channels.
        num_clusters (Sequence[int], optional): overrides the arch's clusters per stage.
        out_type (str): ``'cls_token'`` -> ``(cls [B, C],)`` for mmpretrain heads;
            ``'featmap'`` -> one ``[B, C, H/s, W/s]`` map per ``out_indices`` stage for
            mmseg: the stage's tokens lifted to the superpixels through the (soft)
            assignments of the earlier poolings and painted onto the stem grid.
        out_indices (Sequence[int]): stages for ``'featmap'``. Defaults to the last.
        assign_scale (float): cosine scale of the pooling assignments. Defaults to 5.
        drop_rate, drop_path_rate (float): dropout / stochastic depth (linear rule).
        norm_cfg (dict): token norms. Defaults to LN (eps 1e-6).
        init_cfg (dict | list[dict], optional): mmengine init config; defaults to
            truncated-normal (std 0.02) linear layers and unit LayerNorms.
    """
    arch_zoo = {
        'tiny': dict(embed_dims=96, num_heads=3, depths=(1, 1, 1, 1),
                     num_clusters=(16, 8, 4, 2), feedforward_channels=384,
                     stem_strides=(2, 2, 1)),
        'small': dict(embed_dims=384, num_heads=12, depths=(3, 3, 3, 2),
                      num_clusters=(64, 32, 16, 8), feedforward_channels=1536),
        'base': dict(embed_dims=768, num_heads=12, depths=(3, 3, 3, 2),
                     num_clusters=(64, 32, 16, 8), feedforward_channels=3072),
    }
    _arch_keys = {'embed_dims', 'num_heads', 'depths', 'num_clusters',
                  'feedforward_channels'}

    def __init__(self,
                 arch: Union[str, dict] = 'small',
                 in_channels: int = 3,
                 num_clusters: Optional[Sequence[int]] = None,
                 out_type: str = 'cls_token',
                 out_indices: Sequence[int] = (-1, ),
                 assign_scale: float = 5.0,
                 drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 norm_cfg: dict = dict(type='LN', eps=1e-6),
                 init_cfg: Optional[Union[dict, List[dict]]] = None):
        if init_cfg is None:
            init_cfg = [dict(type='TruncNormal', layer='Linear', std=.02, bias=0.),
                        dict(type='Constant', layer='LayerNorm', val=1., bias=0.)]
        super().__init__(init_cfg=init_cfg)
        if isinstance(arch, str):
            if arch not in self.arch_zoo:
                raise ValueError(f'unknown CAST arch {arch!r}; choose from '
                                 f'{sorted(self.arch_zoo)} or pass a dict')
            arch = self.arch_zoo[arch]
        missing = self._arch_keys - set(arch)
        if missing:
            raise ValueError(f'CAST arch dict lacks {sorted(missing)}')
        self.embed_dims = C = arch['embed_dims']
        self.depths = tuple(arch['depths'])
        self.num_clusters = tuple(num_clusters or arch['num_clusters'])
        if len(self.num_clusters) != len(self.depths):
            raise ValueError(f'{len(self.num_clusters)} cluster counts for '
                             f'{len(self.depths)} stages')
        for i in range(1, len(self.num_clusters)):
            if self.num_clusters[i] > self.num_clusters[i - 1]:
                raise ValueError(
                    f'stage {i} asks for {self.num_clusters[i]} clusters but stage '
                    f'{i - 1} leaves only {self.num_clusters[i - 1]} tokens')
        if out_type not in ('cls_token', 'featmap'):
            raise ValueError(f"out_type must be 'cls_token' or 'featmap', got {out_type!r}")
        self.out_type = out_type
        num_stages = len(self.depths)
        self.out_indices = tuple(sorted(i % num_stages for i in out_indices))

        self.stem = ConvStem(in_channels, C, arch.get('stem_strides', (2, 2, 2, 1)))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, C))
        self.drop_after_pos = nn.Dropout(drop_rate)
        dpr = torch.linspace(0, drop_path_rate, sum(self.depths)).tolist()
        self.stages = ModuleList()
        self.pools = ModuleList()
        for i, depth in enumerate(self.depths):
            first = sum(self.depths[:i])
            self.stages.append(ModuleList([
                MaskedTransformerEncoderLayer(
                    embed_dims=C, num_heads=arch['num_heads'],
                    feedforward_channels=arch['feedforward_channels'],
                    drop_rate=drop_rate, drop_path_rate=dpr[first + j],
                    norm_cfg=norm_cfg) for j in range(depth)]))
            self.pools.append(GraphPooling(
                C, self.num_clusters[i], scale=assign_scale,
                feedforward_channels=arch['feedforward_channels'],
                with_coarse_tokens=i < num_stages - 1, norm_cfg=norm_cfg))
        if out_type == 'cls_token':
            self.norm = build_norm_layer(norm_cfg, C)[1]
        else:
            self.out_norms = ModuleList(
                [build_norm_layer(norm_cfg, C)[1] for _ in self.out_indices])

    def init_weights(self):
        super().init_weights()
        if not (isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained'):
            trunc_normal_(self.cls_token, std=.02)

    def forward(self, inputs: Tensor, superpixels: Optional[Tensor] = None,
                return_assignments: bool = False):
        """Run CAST.

        Args:
            inputs (Tensor): ``[B, 3, H, W]`` images.
            superpixels (Tensor): ``[B, H, W]`` integer ids ``0..S-1``, ``-1`` = padding.
            return_assignments (bool): also return the soft assignments of every level.

        Returns:
            tuple: ``out_type='cls_token'``: ``(cls [B, C],)``; ``'featmap'``: one
            ``[B, C, h, w]`` per out index. With ``return_assignments``, ``(outs,
            assignments)`` where ``assignments[l]`` is ``[B, N_l, N_{l+1}]`` (``N_0 = S``,
            rows of padded superpixels are zero); see :func:`compose_segments`.

        Raises:
            ValueError: no superpixel map, one of another size than the images, or more
                clusters requested than an image has superpixels.
        """
        superpixels = check_superpixels(superpixels, inputs.shape[-2:], inputs.shape[0])
        feats = self.stem(inputs)
        h, w = feats.shape[-2:]
        feats = feats + sincos_pos_embed_2d(h, w, self.embed_dims, device=feats.device,
                                            dtype=feats.dtype)
        x, valid, counts = segment_pool(feats, superpixels)
        x = self.drop_after_pos(x)
        num_seg = valid.sum(dim=1)
        if bool((num_seg < self.num_clusters[0]).any()):
            raise ValueError(
                f'CAST pools to {self.num_clusters[0]} clusters first but image '
                f'{int(num_seg.argmin())} has only {int(num_seg.min())} superpixels: ask '
                'the Superpixels transform for more segments or lower num_clusters')
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        pad_mask = torch.cat([valid.new_zeros(x.shape[0], 1), ~valid], dim=1)
        assignments, stage_tokens = [], []
        last = len(self.depths) - 1
        for i, (blocks, pool) in enumerate(zip(self.stages, self.pools)):
            tokens = torch.cat([cls, x], dim=1)
            for block in blocks:
                tokens = block(tokens, pad_mask)
            cls, x = tokens[:, :1], tokens[:, 1:]
            stage_tokens.append(x)
            if i < last or return_assignments:
                x, assign, _ = pool(x, valid if i == 0 else None)
                assignments.append(assign)
                pad_mask = None
        outs = self._outputs(cls, stage_tokens, assignments, counts, (h, w))
        return (outs, assignments) if return_assignments else outs

    def _outputs(self, cls: Tensor, stage_tokens: List[Tensor], assignments: List[Tensor],
                 counts: Tensor, feat_shape: Tuple[int, int]) -> tuple:
        if self.out_type == 'cls_token':
            return (self.norm(cls[:, 0]), )
        outs = []
        for norm, i in zip(self.out_norms, self.out_indices):
            tokens = norm(stage_tokens[i])
            for assign in reversed(assignments[:i]):  # lift to the superpixels
                tokens = torch.bmm(assign, tokens)
            outs.append(paint_segments(tokens, counts, feat_shape))
        return tuple(outs)

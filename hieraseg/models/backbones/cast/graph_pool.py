"""Graph pooling: coarsen tokens around farthest-point centroids."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks.transformer import FFN
from mmengine.model import BaseModule
from torch import Tensor

from .fps import farthest_point_sampling

__all__ = ['GraphPooling']


class GraphPooling(BaseModule):
    """Coarsen ``N`` tokens to ``K`` (CAST's graph pooling).

    1. centroids: K tokens picked by :func:`farthest_point_sampling` in L2-normalised
       feature space (padded tokens never picked);
    2. soft assignment ``A [B, N, K] = softmax_k(scale * cos(x_n, c_k))`` (each valid row
       sums to one; rows of padded tokens are zero);
    3. coarse token ``k`` = ``c_k + MLP(LN(sum_n A_nk x_n / sum_n A_nk))``: the
       assignment-weighted mean of the fine tokens through an MLP, plus a residual from
       the centroid token.

    Args:
        embed_dims (int): C.
        num_clusters (int): K.
        scale (float): cosine scale of the assignment logits. Defaults to 5.
        feedforward_channels (int, optional): MLP hidden width; defaults to ``4 * C``.
        with_coarse_tokens (bool): build the MLP and return coarse tokens. The last
            stage of CAST only needs the assignment (for the segmentation of its level),
            so it builds no parameters that the classification loss would leave unused.
        fps_normalize (bool): L2-normalise before FPS. Defaults to True.
        norm_cfg (dict): the norm before the MLP. Defaults to LN.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 embed_dims: int,
                 num_clusters: int,
                 scale: float = 5.0,
                 feedforward_channels: Optional[int] = None,
                 with_coarse_tokens: bool = True,
                 fps_normalize: bool = True,
                 norm_cfg: dict = dict(type='LN', eps=1e-6),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if num_clusters < 1:
            raise ValueError(f'num_clusters must be >= 1, got {num_clusters}')
        self.embed_dims = embed_dims
        self.num_clusters = num_clusters
        self.scale = float(scale)
        self.fps_normalize = fps_normalize
        self.with_coarse_tokens = with_coarse_tokens
        if with_coarse_tokens:
            self.norm = build_norm_layer(norm_cfg, embed_dims)[1]
            self.mlp = FFN(embed_dims=embed_dims,
                           feedforward_channels=feedforward_channels or 4 * embed_dims,
                           act_cfg=dict(type='GELU'), add_identity=False)

    def assign(self, x: Tensor, centroids: Tensor, valid: Optional[Tensor] = None) -> Tensor:
        """Soft assignment ``[B, N, K]`` of tokens ``x [B, N, C]`` to ``centroids
        [B, K, C]``; rows of invalid tokens are zero."""
        logits = self.scale * torch.bmm(F.normalize(x, dim=-1),
                                        F.normalize(centroids, dim=-1).transpose(1, 2))
        assign = logits.softmax(dim=-1)
        if valid is not None:
            assign = assign * valid.unsqueeze(-1).to(assign.dtype)
        return assign

    def forward(self, x: Tensor, valid: Optional[Tensor] = None
                ) -> Tuple[Optional[Tensor], Tensor, Tensor]:
        """Pool the tokens.

        Args:
            x (Tensor): ``[B, N, C]`` tokens (class token excluded).
            valid (Tensor, optional): ``[B, N]`` bool, False for padded tokens.

        Returns:
            tuple: ``coarse [B, K, C]`` (None without coarse tokens), ``assign
            [B, N, K]`` and the centroid indices ``[B, K]``.
        """
        index = farthest_point_sampling(x, self.num_clusters, valid,
                                        normalize=self.fps_normalize)
        centroids = torch.gather(x, 1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
        assign = self.assign(x, centroids, valid)
        if not self.with_coarse_tokens:
            return None, assign, index
        mass = assign.sum(dim=1).clamp(min=1e-6)  # [B, K]
        mean = torch.bmm(assign.transpose(1, 2), x) / mass.unsqueeze(-1)
        coarse = centroids + self.mlp(self.norm(mean))
        return coarse, assign, index

"""Frozen BatchNorm fused into the Conv before it, PyTorch's counterpart of graft's fold (src/autodiff/fold-bn.ts)."""
import torch.nn as nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


def fuse_frozen_bn(module):
    """Replaces each Conv2d directly followed by a BatchNorm2d (in a Sequential) with their eval-mode fusion."""
    for child in module.children():
        fuse_frozen_bn(child)
    if isinstance(module, nn.Sequential):
        mods = list(module._modules.items())
        for (ka, a), (kb, b) in zip(mods, mods[1:]):
            if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d):
                module._modules[ka] = fuse_conv_bn_eval(a.eval(), b.eval())
                module._modules[kb] = nn.Identity()
    return module

"""Where and how tensors are computed, for training and for embedding alike: the device, the
autocast precision, the scaled-dot-product attention kernel and the fused optimiser.

Precision ``auto`` uses bf16 where the hardware computes it natively (CUDA GPUs that support it;
CPUs with AVX512-BF16 or AMX) and fp32 elsewhere: on an AVX2-only CPU a bf16 matrix product is
emulated, and about 50x slower than fp32 (measured on this project's CI machines).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Literal

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

log = logging.getLogger(__name__)
Precision = Literal["auto", "bf16", "fp32"]
Attention = Literal["auto", "fused", "math"]


def pick_device(requested: str = "auto", local_rank: int = 0) -> torch.device:
    """CUDA if present, else Apple MPS, else CPU (or the device asked for)."""
    if requested != "auto":
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank)
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def native_bf16(device: torch.device) -> bool:
    """Does ``device`` compute bf16 matrix products in hardware?"""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        capabilities = torch.cpu.get_capabilities()
        return bool(capabilities.get("avx512_bf16") or capabilities.get("amx_tile"))
    return False


def resolved_precision(precision: Precision, device: torch.device) -> Literal["bf16", "fp32"]:
    """``auto`` -> bf16 where native, else fp32; an explicit bf16 without native support is kept,
    with a warning that it is emulated."""
    if precision == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    if precision == "bf16" and not native_bf16(device):
        log.warning("precision bf16 on %s without native bf16: emulated, far slower than fp32 (precision: auto picks fp32 here)", device)
    return precision


def autocast(device: torch.device, precision: Precision) -> contextlib.AbstractContextManager:
    """bf16 autocast when the resolved precision is bf16 (CPU and CUDA), else nothing."""
    if resolved_precision(precision, device) == "bf16" and device.type in ("cpu", "cuda"):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def attention_kernels(device: torch.device, choice: Attention) -> contextlib.AbstractContextManager:
    """Scaled-dot-product attention kernels for training. On CPU the fused (flash) kernel's
    backward is about 6x slower than the plain math on the short token sequences of multi-crop
    training (ViT-S/16, 96/48 px crops: 0.86 s of a 1.4 s backward), so ``auto`` picks math there."""
    if choice == "math" or (choice == "auto" and device.type == "cpu"):
        return sdpa_kernel(SDPBackend.MATH)
    return contextlib.nullcontext()


def fused_optimiser(device: torch.device) -> bool:
    """Whether the device has PyTorch's fused AdamW kernel."""
    return device.type in ("cpu", "cuda")


def peak_gpu_mb(device: torch.device) -> float:
    """Peak GPU memory allocated by this process on ``device``, in MiB (0 off CUDA)."""
    return torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else 0.0

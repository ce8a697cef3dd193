"""flash-mla: fast MLA decoding over a paged KV cache for NVIDIA GPUs from Ampere on.

Drop-in for deepseek-ai/FlashMLA's dense decode: `get_mla_metadata` and `flash_mla_with_kvcache`.
Importing needs no GPU; the kernels load on first use, picked by the GPU's compute capability
(flash_mla.targets).
"""

from .interface import FlashMLASchedMeta, flash_mla_with_kvcache, get_mla_metadata
from .targets import UnsupportedDeviceError, forced_variant, native_variant

__all__ = [
    "FlashMLASchedMeta",
    "UnsupportedDeviceError",
    "flash_mla_with_kvcache",
    "forced_variant",
    "get_mla_metadata",
    "native_variant",
]
__version__ = "0.1.0"

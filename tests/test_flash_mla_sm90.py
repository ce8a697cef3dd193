"""flash-mla decode on H100 / H200 (9.0): the shared suite (decode_suite.py) for the sm90 variant.

Compute capability 9.0 runs the Hopper kernel family (csrc/sm90: sm_90a machine code, wgmma + TMA,
warp-specialized); this module tests it, and skips with a reason on any other GPU or none.

    pytest tests/test_flash_mla_sm90.py                 # the test grid
    python tests/test_flash_mla_sm90.py --dtype fp16    # accuracy + speed table
"""

from decode_suite import *  # noqa: F403 - the shared tests, collected for this module's VARIANT
from decode_suite import script

VARIANT = "sm90"

if __name__ == "__main__":
    script(VARIANT)

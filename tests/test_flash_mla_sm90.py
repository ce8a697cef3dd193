"""flash-mla decode on H100 / H200 (9.0): the shared suite (decode_suite.py) for the sm90 variant.

Until the Hopper kernel family lands (sm90a: wgmma + TMA), compute capability 9.0 dispatches to the
Ampere-class sm80 variant built as sm_90 SASS: this module tests whatever the H100 runs by default.

    pytest tests/test_flash_mla_sm90.py                 # the test grid
    python tests/test_flash_mla_sm90.py --dtype fp16    # accuracy + speed table
"""

from decode_suite import *  # noqa: F403 - the shared tests, collected for this module's VARIANT
from decode_suite import script

VARIANT = "sm90"

if __name__ == "__main__":
    script(VARIANT)

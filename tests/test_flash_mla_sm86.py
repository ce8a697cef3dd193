"""flash-mla decode on RTX 30xx / A10 / A40 (8.6) and Orin (8.7): the shared suite (decode_suite.py) for the sm86 variant.

With FLASH_MLA_FORWARD_COMPAT=1 (or --forward-compat) it runs the sm86 variant on any newer GPU.

    pytest tests/test_flash_mla_sm86.py                 # the test grid
    python tests/test_flash_mla_sm86.py --dtype fp16    # accuracy + speed table
"""

from decode_suite import *  # noqa: F403 - the shared tests, collected for this module's VARIANT
from decode_suite import script

VARIANT = "sm86"

if __name__ == "__main__":
    script(VARIANT)

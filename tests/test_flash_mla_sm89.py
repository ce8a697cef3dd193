"""flash-mla decode on RTX 40xx / L4 / L40 (8.9): the shared suite (decode_suite.py) for the sm89 variant.

With FLASH_MLA_FORWARD_COMPAT=1 (or --forward-compat) it runs the sm89 variant on any newer GPU.

    pytest tests/test_flash_mla_sm89.py                 # the test grid
    python tests/test_flash_mla_sm89.py --dtype fp16    # accuracy + speed table
"""

from decode_suite import *  # noqa: F403 - the shared tests, collected for this module's VARIANT
from decode_suite import script

VARIANT = "sm89"

if __name__ == "__main__":
    script(VARIANT)

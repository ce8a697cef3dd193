import sys
from pathlib import Path

# The shared suite (decode_suite.py, mla_reference.py, timing.py) imports as top-level modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_addoption(parser):
    parser.addoption(
        "--forward-compat",
        action="store_true",
        default=False,
        help="run the sm80/sm86/sm89 variants on any newer GPU (same as FLASH_MLA_FORWARD_COMPAT=1)",
    )

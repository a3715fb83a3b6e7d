"""ctest entry of the Python suite: runs pytest on this folder; exit code 77 (ctest: skipped) without pytest.
Without arguments the tests marked `heavy` are left out; `-m heavy` runs only them (ctest label heavy)."""
import os
import sys

try:
    import pytest
except ImportError:
    print("pytest is not installed for %s (pip install -r scripts/requirements-dev.txt): skipped" % sys.executable)
    sys.exit(77)

args = sys.argv[1:] or ["-m", "not heavy"]
rc = pytest.main(["-q", "-p", "no:cacheprovider", os.path.dirname(os.path.abspath(__file__))] + args)
sys.exit(0 if rc == 5 else rc)  # 5: no test selected (e.g. no heavy tests) is not a failure

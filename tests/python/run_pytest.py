"""ctest entry of the Python suite: runs pytest on this folder; exit code 77 (ctest: skipped) without pytest."""
import os
import sys

try:
    import pytest
except ImportError:
    print("pytest is not installed for %s (pip install -r scripts/requirements-dev.txt): skipped" % sys.executable)
    sys.exit(77)

sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", os.path.dirname(os.path.abspath(__file__))] + sys.argv[1:]))

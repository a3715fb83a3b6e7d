"""pytest configuration of the Python suite: the `heavy` marker (whole-dataset runs, ctest label heavy)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "heavy: long accuracy runs over whole datasets (make test-heavy)")

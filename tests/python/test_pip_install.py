"""Issue 6, acceptance 6: `pip install .` into a fresh venv builds and installs a working `kaiwu` package (heavy:
`make test-heavy`; it builds the extension from scratch, several minutes on 2 cores, and needs PyPI for
scikit-build-core). The venv is made from the interpreter running the tests, with only numpy added."""
import os
import subprocess
import sys

import pytest

REPO = os.environ.get("KAIWU_SOURCE") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(REPO, "examples", "fmnist", "fmnist_small.onnx")


@pytest.mark.heavy
def test_pip_install_in_a_fresh_venv(tmp_path):
    base = getattr(sys, "_base_executable", sys.executable)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the build tree's package must not be seen
    venv = tmp_path / "venv"
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    subprocess.run([py, "-m", "pip", "install", "-q", "numpy"], check=True)
    subprocess.run([py, "-m", "pip", "install", "-q", REPO], check=True, cwd=str(tmp_path), env=env)
    code = ("import numpy as np, kaiwu, os; s = kaiwu.Session(%r); x = np.zeros(s.input_shapes[0][1:], np.float32)[None];"
            " out = s.run(None, {s.input_names[0]: x})[0]; assert out.shape == (1, 10), out.shape;"
            " assert os.path.dirname(kaiwu.__file__).startswith(%r); print('ok', kaiwu.__file__)" % (MODEL, str(venv)))
    r = subprocess.run([py, "-c", code], capture_output=True, text=True, cwd=str(tmp_path), env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok"), r.stdout

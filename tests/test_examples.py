"""End-to-end: the README's snippets and the examples run, learn, and match PyTorch running the same code."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def readme_blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README, re.S)


def run_python(source):
    r = subprocess.run([sys.executable, "-"], input=source, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return r.stdout


def as_torch(source):
    """The same program with ``import ember as torch`` replaced by the real torch."""
    assert "import ember as torch\n" in source
    return source.replace("import ember as torch\n", "import torch\n")


def test_readme_python_snippet_fits_the_true_weights():
    snippet = readme_blocks("python")[0]
    namespace = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    w, true_w = namespace["w"].detach().numpy(), namespace["true_w"].numpy()
    np.testing.assert_allclose(w, true_w, atol=0.01)
    assert namespace["loss"].item() < 1e-3


def test_readme_snippet_runs_under_torch_too():
    snippet = readme_blocks("python")[0]
    out = run_python(as_torch(snippet))
    assert "grad_fn=<MeanBackward0>" in out


def test_readme_commands_are_the_ones_ci_runs():
    blocks = [b.strip().splitlines() for b in readme_blocks("bash")]
    assert ["pip install -e '.[tools,datasets]' && ember demo"] in blocks
    assert ["pip install -e '.[test]'", "python -m pytest -n 2"] in blocks


def test_readme_keras_snippet_learns():
    snippet = readme_blocks("python")[1]
    assert "import ember as tf" in snippet
    namespace = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    assert namespace["mae"] < namespace["y_train"].std()  # better than predicting the mean


def quickstart_log(source):
    rows = re.findall(r"step\s+(\d+)\s+loss ([\d.]+)\s+accuracy ([\d.]+)", run_python(source))
    assert rows, "quickstart printed no progress lines"
    return np.array(rows, dtype=np.float64)


def test_quickstart_learns_and_matches_torch():
    source = (ROOT / "examples" / "quickstart.py").read_text()
    ours = quickstart_log(source)
    theirs = quickstart_log(as_torch(source))
    assert ours[-1, 2] >= 0.95, f"final accuracy {ours[-1, 2]}"
    assert ours[-1, 1] < ours[0, 1] / 5
    np.testing.assert_array_equal(ours[:, 0], theirs[:, 0])
    np.testing.assert_allclose(ours[:, 1:], theirs[:, 1:], atol=2e-3)

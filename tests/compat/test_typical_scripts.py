"""Unchanged PyTorch scripts (the shapes of pytorch/examples' mnist, vae and word_language_model, a modern
AMP/checkpoint loop, a transformer classifier, a CIFAR-style ResNet, a WGAN-GP and a seq2seq
with attention) run on ember through `ember run` (ember.torch_alias), and learn; each also runs under the
real torch, which checks that the scripts are plain PyTorch."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ember.torch_alias

SCRIPTS = Path(__file__).parent / "scripts"
# script -> (arguments, a check of the numbers on its FINAL line)
CASES = {
    "mnist_cnn.py": ([], lambda v: v["accuracy"] >= 0.9),
    "vae.py": ([], lambda v: v["last"] < 0.6 * v["first"]),
    "lstm_lm.py": ([], lambda v: v["ppl"] < 4.0),  # 12 tokens: a uniform guess has perplexity 12
    "amp_resume.py": ([], lambda v: v["after"] < v["before"] / 3 and v["lr"] < 1e-6),
    "transformer_cls.py": ([], lambda v: v["accuracy"] >= 0.9 and v["reloaded"] == v["accuracy"]),
    "resnet_cnn.py": ([], lambda v: v["accuracy"] >= 0.9 and v["epoch"] == 8),
    "wgan_gp.py": ([], lambda v: v["after"] < v["before"] / 2.5 and v["hooks"] == 300),
    "seq2seq_attention.py": ([], lambda v: v["accuracy"] >= 0.85),  # chance: 1 in 10 digits
}


def final_numbers(stdout):
    line = next(ln for ln in reversed(stdout.splitlines()) if ln.startswith("FINAL"))
    return {k: float(v) for k, v in re.findall(r"([a-z]+) ([-\d.]+)", line)}


def run(args, tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    r = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    return final_numbers(r.stdout)


@pytest.mark.parametrize("script", list(CASES))
def test_script_runs_unchanged_on_ember_and_learns(script, tmp_path):
    args, learned = CASES[script]
    ours = run(["-m", "ember", "run", str(SCRIPTS / script), *args], tmp_path)
    assert learned(ours), ours
    theirs = run([str(SCRIPTS / script), *args], tmp_path)  # the same file under the real torch
    assert learned(theirs), theirs


def test_the_alias_maps_torch_modules_to_embers(tmp_path):
    code = ("import ember.torch_alias as a; a.install()\n"
            "import torch, torch.nn as nn, torch.nn.functional as F\n"
            "from torch.utils.data import DataLoader\n"
            "import torch.backends.cudnn as cudnn\n"
            "import ember\n"
            "assert torch is ember and nn is ember.nn and F is ember.nn.functional\n"
            "assert DataLoader is ember.utils.data.DataLoader and cudnn is ember.backends.cudnn\n"
            "try:\n    import torch.not_a_module\nexcept ModuleNotFoundError as e:\n    print(e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "No module named 'torch.not_a_module' (ember has no 'ember.not_a_module'" in r.stdout


def test_the_alias_refuses_when_the_real_torch_is_loaded():
    import torch  # noqa: F401  (the oracle, already imported by the test suite)

    with pytest.raises(RuntimeError, match="the real torch is already imported"):
        ember.torch_alias.install()
    assert not ember.torch_alias.installed()


def test_ember_run_passes_the_scripts_exit_code_and_finds_its_sibling_modules(tmp_path):
    (tmp_path / "sibling.py").write_text("import torch.nn as nn\nLayer = nn.Linear\n")
    script = tmp_path / "exits.py"
    script.write_text("import sys, torch\nfrom sibling import Layer\nassert Layer is torch.nn.Linear\n"
                      "print(torch.__name__, sys.argv[1:])\nsys.exit(3)\n")
    r = subprocess.run([sys.executable, "-m", "ember", "run", str(script), "--flag", "x"], capture_output=True,
                       text=True, timeout=60, cwd="/")
    assert r.returncode == 3 and r.stdout.strip() == "ember ['--flag', 'x']"

"""Hyperparameter search with Optuna (examples/hparam_search.py) in both API styles, and the Keras callback
OptunaPruning: trials report each epoch, the pruner stops a bad configuration early, the best one wins."""
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from ember import keras

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))
import hparam_search  # noqa: E402

GOOD = {"lr": 0.03, "hidden": 64, "dropout": 0.1}
BAD = {"lr": 1e-3, "hidden": 16, "dropout": 0.5}  # 3 epochs at this rate stay far behind GOOD


@pytest.fixture(autouse=True)
def _quiet_optuna():
    optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.mark.parametrize("api", sorted(hparam_search.APIS))
def test_the_median_pruner_stops_a_bad_configuration_and_the_best_is_a_good_one(api):
    train_fn, _ = hparam_search.APIS[api]
    train, val, _, _ = hparam_search.load_digits()
    study = optuna.create_study(direction="maximize",
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1))
    for params in (GOOD, GOOD, GOOD, BAD):
        study.enqueue_trial(params)
    epochs = 3
    study.optimize(lambda t: train_fn(hparam_search.suggest(t), train, epochs, val=val, trial=t)[1], n_trials=4)
    states = [t.state for t in study.trials]
    assert states == [optuna.trial.TrialState.COMPLETE] * 3 + [optuna.trial.TrialState.PRUNED]
    assert [len(t.intermediate_values) for t in study.trials[:3]] == [epochs] * 3
    assert max(study.trials[3].intermediate_values) < epochs - 1  # stopped before its last epoch
    assert study.best_params == GOOD and study.best_value > 0.9


@pytest.mark.parametrize("api", sorted(hparam_search.APIS))
def test_a_search_finds_a_configuration_that_learns(api):
    study = hparam_search.search(api, trials=5, epochs=3)
    assert len(study.trials) == 5 and study.best_value > 0.85


def test_the_keras_callback_raises_trial_pruned_out_of_fit():
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=0.999))
    trial = study.ask()
    train, val, _, _ = hparam_search.load_digits()
    with pytest.raises(optuna.TrialPruned, match="epoch 0"):
        hparam_search.train_keras(BAD, train, 3, val=val, trial=trial)
    assert list(trial.storage.get_trial(trial._trial_id).intermediate_values) == [0]


def test_the_keras_callback_warns_when_the_metric_is_missing():
    study = optuna.create_study()
    callback = keras.callbacks.OptunaPruning(study.ask(), monitor="val_auc")
    with pytest.warns(UserWarning, match="'val_auc' is not in the logs"):
        callback.on_epoch_end(0, {"loss": 1.0, "val_loss": 1.2})


def test_the_example_runs_from_the_command_line():
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "hparam_search.py"), "--trials", "4", "--epochs",
                        "3"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "4 trials:" in r.stdout and "test accuracy of the best configuration" in r.stdout

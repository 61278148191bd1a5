"""Hyperparameter search with Optuna: the learning rate, hidden width and dropout of an MLP on the 8x8 digits,
with a TPE sampler and a median pruner that stops unpromising trials early; then the best configuration is
trained on the whole training set and scored on the test set.

    python examples/hparam_search.py                # 20 trials, a PyTorch-style training loop
    python examples/hparam_search.py --api keras    # the same search with keras fit + OptunaPruning
    python examples/hparam_search.py --trials 5 --epochs 4

Optuna does the searching (``pip install optuna`` or ``ember[tune]``): the PyTorch-style objective is the code
one would write for torch (``trial.report`` / ``trial.should_prune`` after each epoch); the Keras one passes
``ember.keras.callbacks.OptunaPruning(trial, monitor="val_accuracy")`` to ``fit``.
"""
import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # tiny matrices: one BLAS thread is fastest

import numpy as np
import optuna

import ember as torch
from ember import keras
from ember.datasets import Digits

nn = torch.nn


def load_digits(validation=0.2, seed=0):
    """(train, validation, full train, test) splits, each (pixels (N, 64) float32, labels (N,) int64) as NumPy
    arrays standardised with the training set's statistics; the validation rows are drawn from the training set."""
    splits = [Digits(train=True), Digits(train=False)]
    pixels = [s.data.numpy().reshape(len(s), 64).astype(np.float32) / 255.0 for s in splits]
    labels = [s.targets.numpy().astype(np.int64) for s in splits]
    mean, std = pixels[0].mean(), pixels[0].std()
    (x, y), test = [((p - mean) / std, t) for p, t in zip(pixels, labels)]
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = int(len(x) * validation)
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val]), (x, y), test


def suggest(trial):
    return {"lr": trial.suggest_float("lr", 1e-3, 0.3, log=True),
            "hidden": trial.suggest_int("hidden", 16, 128, log=True),
            "dropout": trial.suggest_float("dropout", 0.0, 0.5)}


def train_torch(params, train, epochs, val=None, trial=None, seed=0):
    """Train the MLP with ``params``; after each epoch report the validation accuracy to ``trial`` (if any) and
    stop when its pruner says so. Returns (model, last validation accuracy)."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, params["hidden"]), nn.ReLU(), nn.Dropout(params["dropout"]),
                          nn.Linear(params["hidden"], 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=params["lr"], momentum=0.9)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(train[0]), torch.from_numpy(train[1])), batch_size=32,
        shuffle=True)
    accuracy = None
    for epoch in range(epochs):
        model.train()
        for inputs, labels in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(inputs), labels).backward()
            optimizer.step()
        if val is not None:
            accuracy = evaluate_torch(model, val)
            if trial is not None:
                trial.report(accuracy, epoch)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned at epoch {epoch}")
    return model, accuracy


def evaluate_torch(model, data):
    model.eval()
    with torch.no_grad():
        predicted = model(torch.from_numpy(data[0])).argmax(dim=1).numpy()
    return float((predicted == data[1]).mean())


def train_keras(params, train, epochs, val=None, trial=None, seed=0):
    """The same model and search through Keras's fit; pruning by the OptunaPruning callback."""
    torch.manual_seed(seed)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(params["hidden"], activation="relu"),
                              keras.layers.Dropout(params["dropout"]), keras.layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=params["lr"], momentum=0.9),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    callbacks = [keras.callbacks.OptunaPruning(trial, monitor="val_accuracy")] if trial is not None else []
    history = model.fit(train[0], train[1], batch_size=32, epochs=epochs, validation_data=val, verbose=0,
                        callbacks=callbacks)
    return model, (history.history["val_accuracy"][-1] if val is not None else None)


def evaluate_keras(model, data):
    return float((model.predict(data[0], verbose=0).argmax(axis=1) == data[1]).mean())


APIS = {"torch": (train_torch, evaluate_torch), "keras": (train_keras, evaluate_keras)}


def search(api, trials, epochs, seed=0):
    """An Optuna study maximising validation accuracy over ``trials`` trials."""
    train_fn, _ = APIS[api]
    train, val, _, _ = load_digits(seed=seed)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1))
    study.optimize(lambda trial: train_fn(suggest(trial), train, epochs, val=val, trial=trial)[1], n_trials=trials)
    return study


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", choices=sorted(APIS), default="torch")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = search(args.api, args.trials, args.epochs, args.seed)
    states = [t.state for t in study.trials]
    print(f"{len(states)} trials: {states.count(optuna.trial.TrialState.COMPLETE)} complete, "
          f"{states.count(optuna.trial.TrialState.PRUNED)} pruned")
    print(f"best validation accuracy {study.best_value:.4f} with {study.best_params}")
    train_fn, evaluate_fn = APIS[args.api]
    _, _, full_train, test = load_digits(seed=args.seed)
    model, _ = train_fn(study.best_params, full_train, args.epochs)
    print(f"test accuracy of the best configuration, trained on all training data: {evaluate_fn(model, test):.4f}")


if __name__ == "__main__":
    main()

"""``ember demo``: train a small CNN on the offline 8x8 digits with the PyTorch-style API.

Shows the model summary, a progress bar per epoch, and writes to the output folder: ``curves.png`` (training
curves), ``tensorboard/`` (event files: scalars and the model graph) and ``checkpoint.safetensors``
(model + optimizer state via ``ember.io.save_checkpoint``). The Keras-API twin is ``ember.keras.demo``.
"""
import contextlib
import os
import time

import numpy as np

__all__ = ["load_digits", "run"]

MIN_ACCURACY = 0.97


def load_digits():
    """(x_train, y_train, x_test, y_test): images as float32 in [0, 1] of shape (N, 8, 8), int64 labels; from
    ember.datasets.Digits (fixed split of scikit-learn's bundled digits) or, without it, scikit-learn directly."""
    try:
        from ..datasets import Digits
    except ImportError:
        Digits = None
    if Digits is not None:
        train, test = Digits(train=True), Digits(train=False)
        return (train.data.numpy().astype(np.float32) / 255.0, train.targets.numpy().astype(np.int64),
                test.data.numpy().astype(np.float32) / 255.0, test.targets.numpy().astype(np.int64))
    from sklearn.datasets import load_digits as sk_load

    bunch = sk_load()
    images = (bunch.images / 16.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(images))
    images, labels = images[order], bunch.target[order].astype(np.int64)
    cut = int(0.8 * len(images))
    return images[:cut], labels[:cut], images[cut:], labels[cut:]


def shifted(images, rng):
    """Each (8, 8) image moved by -1, 0 or +1 pixel in each direction (zeros fill in): cheap augmentation."""
    out = np.empty_like(images)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    dy, dx = rng.integers(0, 3, size=(2, len(images)))
    for a in range(3):
        for b in range(3):
            pick = (dy == a) & (dx == b)
            out[pick] = padded[pick, a:a + 8, b:b + 8]
    return out


@contextlib.contextmanager
def small_blas():
    """Run BLAS single-threaded: the demo's matrices are tiny, and on a busy machine OpenBLAS's thread pool
    makes each small GEMM tens of times slower (measured: 3.8 ms vs 0.06 ms for 32x512 @ 512x64)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _model():
    from .. import nn

    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))


def _accuracy(model, x, y):
    from .. import no_grad

    model.eval()
    with no_grad():
        pred = model(x).argmax(1).numpy()
    return float(np.mean(pred == y))


def run(out="ember-demo", epochs=20, batch_size=32, lr=3e-3, seed=0, progress=True):
    """Train, report and save; returns a dict with the test accuracy, the history and the written paths."""
    with small_blas():
        return _run(out, epochs, batch_size, lr, seed, progress)


def _run(out, epochs, batch_size, lr, seed, progress):
    import ember
    from .. import nn, optim
    from ..io import save_checkpoint
    from ..utils.data import DataLoader, TensorDataset
    from .plots import plot_history
    from .progress import track
    from .summary import summary
    from .tensorboard import SummaryWriter

    start = time.time()
    ember.manual_seed(seed)
    x_train, y_train, x_test, y_test = load_digits()
    yt, xv = ember.from_numpy(y_train), ember.from_numpy(x_test[:, None])
    rng = np.random.default_rng(seed)
    model = _model()
    print(f"ember demo (PyTorch-style API): a CNN on {len(x_train)} + {len(x_test)} 8x8 digit images\n")
    summary(model, (1, 1, 8, 8))
    optimizer = optim.Adam(model.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()
    os.makedirs(out, exist_ok=True)
    writer = SummaryWriter(os.path.join(out, "tensorboard"))
    writer.add_graph(model, xv[:1])
    history = {"loss": [], "accuracy": [], "val_accuracy": []}
    step = 0
    for epoch in range(epochs):
        model.train()
        total, correct, seen = 0.0, 0, 0
        augmented = ember.from_numpy(shifted(x_train, rng)[:, None])
        loader = DataLoader(TensorDataset(augmented, yt), batch_size=batch_size, shuffle=True)
        bar = track(loader, desc=f"epoch {epoch + 1}/{epochs}", disable=not progress, leave=False)
        for xb, yb in bar:
            logits = model(xb)
            loss = loss_fn(logits, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            n = len(yb)
            total += loss.item() * n
            correct += int((logits.argmax(1) == yb).sum().item())
            seen += n
            step += 1
            if progress:
                bar.set_postfix(loss=f"{total / seen:.4f}")
        scheduler.step()
        val_acc = _accuracy(model, xv, y_test)
        history["loss"].append(total / seen)
        history["accuracy"].append(correct / seen)
        history["val_accuracy"].append(val_acc)
        writer.add_scalar("loss/train", total / seen, epoch)
        writer.add_scalar("accuracy/train", correct / seen, epoch)
        writer.add_scalar("accuracy/test", val_acc, epoch)
        print(f"epoch {epoch + 1:>2}/{epochs}  loss {total / seen:.4f}  train accuracy {correct / seen:.4f}  "
              f"test accuracy {val_acc:.4f}", flush=True)
    accuracy = history["val_accuracy"][-1]
    writer.add_hparams({"lr": lr, "batch_size": batch_size, "epochs": epochs}, {"hparam/test_accuracy": accuracy})
    writer.close()
    paths = {"curves": os.path.join(out, "curves.png"), "tensorboard": os.path.join(out, "tensorboard"),
             "checkpoint": os.path.join(out, "checkpoint.safetensors")}
    plot_history(history, paths["curves"], title="ember demo (nn API)")
    save_checkpoint(paths["checkpoint"], model_state=model.state_dict(), optimizer_state=optimizer.state_dict(),
                    epoch=epochs, step=step, extra={"test_accuracy": accuracy})
    return {"accuracy": accuracy, "history": history, "paths": paths, "seconds": time.time() - start}


def report(result, api):
    """Print the outcome of a demo run; returns the process exit status (1 if below MIN_ACCURACY)."""
    acc = result["accuracy"]
    print(f"\ntest accuracy: {acc:.4f} ({api} API, {result['seconds']:.1f} s)")
    for what, path in result["paths"].items():
        print(f"  {what:<11} {path}")
    print(f"view the logs with: tensorboard --logdir {result['paths']['tensorboard']}")
    if acc < MIN_ACCURACY:
        print(f"warning: accuracy below the expected {MIN_ACCURACY:.2f}")
        return 1
    return 0

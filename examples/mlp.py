"""A multilayer perceptron on the 8x8 handwritten digits: SGD with momentum, a cosine learning-rate schedule,
and a checkpoint saved with ``torch.save`` and loaded back into a fresh model.

    python examples/mlp.py              # 30 epochs, about 97 % test accuracy
    python examples/mlp.py --epochs 3   # a quick run

The model and the training loop are plain PyTorch code: replace ``import ember as torch`` by ``import torch``
and the script runs under PyTorch. Only the data come from ember (``ember.datasets.Digits``: scikit-learn's
bundled copy of the digits, split 1437 train / 360 test, no download), as NumPy arrays.
"""
import argparse
import os
import tempfile
import time

# Tiny matrices: one BLAS thread is fastest (a thread pool is much slower when another process holds a core).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

import ember as torch
from ember.datasets import Digits

nn = torch.nn


def load_digits():
    """Train and test (pixels (N, 64) float32, labels (N,) int64) as tensors of the framework in use; pixels
    are standardised with the training set's mean and standard deviation."""
    splits = [Digits(train=True), Digits(train=False)]
    pixels = [s.data.numpy().reshape(len(s), 64).astype(np.float32) / 255.0 for s in splits]
    mean, std = pixels[0].mean(), pixels[0].std()
    return [(torch.from_numpy((x - mean) / std), torch.from_numpy(s.targets.numpy())) for x, s in zip(pixels, splits)]


def make_model():
    return nn.Sequential(
        nn.Linear(64, 128), nn.ReLU(),
        nn.Linear(128, 64), nn.ReLU(),
        nn.Linear(64, 10),
    )


def evaluate(model, inputs, labels):
    model.eval()
    with torch.no_grad():
        predicted = model(inputs).argmax(dim=1)
    model.train()
    return (predicted == labels).float().mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_digits()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_train, y_train),
                                         batch_size=args.batch_size, shuffle=True)
    model = make_model()
    print(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss()

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        total, count = 0.0, 0
        for inputs, labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
            count += len(labels)
        scheduler.step()
        print(f"epoch {epoch:2d}   lr {scheduler.get_last_lr()[0]:.4f}   loss {total / count:.4f}   "
              f"test accuracy {evaluate(model, x_test, y_test):.4f}")
    print(f"training time {time.perf_counter() - start:.1f} s")

    # a checkpoint round trip: the reloaded model makes the same predictions
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "mlp.pt")
        torch.save(model.state_dict(), path)
        restored = make_model()
        restored.load_state_dict(torch.load(path))
    accuracy = evaluate(model, x_test, y_test)
    assert evaluate(restored, x_test, y_test) == accuracy
    print("checkpoint reloaded: same test accuracy")
    print(f"test accuracy {100 * accuracy:.2f} %")


if __name__ == "__main__":
    main()

"""An LSTM that reads each 8x8 digit image row by row (a sequence of 8 steps of 8 pixels) and classifies it
from its last hidden state; Adam, gradient clipping, a plain training loop.

    python examples/lstm_classifier.py              # 15 epochs, about 97 % test accuracy
    python examples/lstm_classifier.py --epochs 3   # a quick run

The model and the training loop are plain PyTorch code: replace ``import ember as torch`` by ``import torch``
and the script runs under PyTorch. Only the data come from ember (``ember.datasets.Digits``: scikit-learn's
bundled copy of the digits, split 1437 train / 360 test, no download), as NumPy arrays.
"""
import argparse
import os
import time

# Tiny matrices: one BLAS thread is fastest (a thread pool is much slower when another process holds a core).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

import ember as torch
from ember.datasets import Digits

nn = torch.nn


def load_digits():
    """Train and test (rows (N, 8, 8) float32: batch, time step = image row, pixels of the row; labels (N,)
    int64) as tensors of the framework in use, standardised with the training set's mean and std."""
    splits = [Digits(train=True), Digits(train=False)]
    rows = [s.data.numpy().astype(np.float32) / 255.0 for s in splits]
    mean, std = rows[0].mean(), rows[0].std()
    return [(torch.from_numpy((x - mean) / std), torch.from_numpy(s.targets.numpy())) for x, s in zip(rows, splits)]


class RowLSTM(nn.Module):
    def __init__(self, n_pixels=8, hidden_size=64, n_classes=10):
        super().__init__()
        self.lstm = nn.LSTM(n_pixels, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, n_classes)

    def forward(self, rows):
        _, (h_n, _) = self.lstm(rows)  # h_n: (num_layers, batch, hidden_size), the last step's state
        return self.head(h_n[-1])


def evaluate(model, rows, labels):
    model.eval()
    with torch.no_grad():
        predicted = model(rows).argmax(dim=1)
    model.train()
    return (predicted == labels).float().mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_digits()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_train, y_train),
                                         batch_size=args.batch_size, shuffle=True)
    model = RowLSTM(hidden_size=args.hidden_size)
    print(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        total, count = 0.0, 0
        for rows, labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(rows), labels)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            total += loss.item() * len(labels)
            count += len(labels)
        print(f"epoch {epoch:2d}   loss {total / count:.4f}   test accuracy {evaluate(model, x_test, y_test):.4f}")
    print(f"training time {time.perf_counter() - start:.1f} s")
    print(f"test accuracy {100 * evaluate(model, x_test, y_test):.2f} %")


if __name__ == "__main__":
    main()

"""A LeNet-style convolutional network on the 8x8 handwritten digits, trained with Adam.

    python examples/cnn_digits.py              # 20 epochs, about 98.5 % test accuracy in a few seconds
    python examples/cnn_digits.py --epochs 3   # a quick run

The model and the training loop are plain PyTorch code: replace ``import ember as torch`` by ``import torch``
and the script runs under PyTorch. Only the data come from ember (``ember.datasets.Digits``: scikit-learn's
bundled copy of the digits, split 1437 train / 360 test, no download), as NumPy arrays.
"""
import argparse
import os
import time

# The matrices here are tiny, so one BLAS thread is fastest; OpenBLAS's thread pool made these 3 epochs take
# 7-19 s instead of 0.5 s when another process was using one of the two cores. (Set before NumPy loads BLAS.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

import ember as torch
from ember.datasets import Digits

nn = torch.nn
F = torch.nn.functional


def load_digits():
    """Train and test (images (N, 1, 8, 8) float32, labels (N,) int64) as tensors of the framework in use;
    pixels are standardised with the training set's mean and standard deviation."""
    splits = [Digits(train=True), Digits(train=False)]
    images = [s.data.numpy().astype(np.float32)[:, None] / 255.0 for s in splits]
    mean, std = images[0].mean(), images[0].std()
    return [(torch.from_numpy((x - mean) / std), torch.from_numpy(s.targets.numpy())) for x, s in zip(images, splits)]


class LeNet(nn.Module):
    """conv 16@3x3 -> relu -> maxpool 2 -> conv 32@3x3 -> relu -> maxpool 2 -> dropout -> linear
    (the feature maps shrink 8x8 -> 4x4 -> 2x2)."""

    def __init__(self, n_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(32 * 2 * 2, n_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(self.dropout(torch.flatten(x, 1)))


def evaluate(model, images, labels):
    model.eval()
    with torch.no_grad():
        predicted = model(images).argmax(dim=1)
    model.train()
    return (predicted == labels).float().mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_digits()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_train, y_train),
                                         batch_size=args.batch_size, shuffle=True)
    model = LeNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"LeNet: {n_params} parameters; {len(x_train)} training and {len(x_test)} test images")

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        total, count = 0.0, 0
        for images, labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
            count += len(labels)
        print(f"epoch {epoch:2d}   loss {total / count:.4f}   test accuracy {evaluate(model, x_test, y_test):.4f}")
    seconds = time.perf_counter() - start

    print(f"training time {seconds:.1f} s")
    print(f"test accuracy {100 * evaluate(model, x_test, y_test):.2f} %")


if __name__ == "__main__":
    main()

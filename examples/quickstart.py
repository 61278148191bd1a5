"""Quickstart: train a small classifier with ember's tensors and autograd, written as PyTorch code.

    python examples/quickstart.py

Only tensors, autograd and ops are used (no ember.nn or ember.optim: see the other examples): the parameters are leaf
tensors that require grad, and the update is a manual SGD step under no_grad. Change the import to
``import torch`` and the script runs under PyTorch and prints the same numbers.
"""
import numpy as np

import ember as torch

# Two interleaved half-moons: 200 points in 2-D with labels 0/1. The data and the initial weights come from
# NumPy, so ember and PyTorch start from exactly the same numbers.
rng = np.random.default_rng(0)
n = 200
labels = rng.integers(0, 2, n)
angle = rng.uniform(0.0, np.pi, n)
points = np.where(labels[:, None] == 0,
                  np.stack([np.cos(angle), np.sin(angle)], 1),
                  np.stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)], 1))
points += 0.1 * rng.standard_normal((n, 2))

x = torch.tensor(points, dtype=torch.float32)  # (200, 2)
y = torch.tensor(labels)                         # (200,) int64

# A 2-32-2 multilayer perceptron.
hidden = 32
w1 = torch.tensor(rng.standard_normal((2, hidden)) / np.sqrt(2), dtype=torch.float32, requires_grad=True)
b1 = torch.zeros(hidden, requires_grad=True)
w2 = torch.tensor(rng.standard_normal((hidden, 2)) / np.sqrt(hidden), dtype=torch.float32, requires_grad=True)
b2 = torch.zeros(2, requires_grad=True)
params = [w1, b1, w2, b2]


def model(inputs):
    return torch.relu(inputs @ w1 + b1) @ w2 + b2


learning_rate = 0.5
for step in range(401):
    logits = model(x)
    # cross-entropy: the mean negative log-probability of the true class
    loss = -torch.log_softmax(logits, dim=1)[torch.arange(n), y].mean()
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= learning_rate * p.grad
            p.grad = None
    if step % 50 == 0:
        accuracy = (logits.argmax(dim=1) == y).float().mean()
        print(f"step {step:3d}   loss {loss.item():.4f}   accuracy {accuracy.item():.3f}")

print("first logits:", model(x[:2]).detach())

"""Compile mode: the digits MLP (or the CNN) trained with ``step = ember.compile(train_step)``, against the same
training run in eager mode.

    python examples/compile_step.py                # MLP, 10 epochs eager + 10 epochs compiled
    python examples/compile_step.py --model cnn    # the LeNet-style CNN of cnn_digits.py
    python examples/compile_step.py --mode reduce-overhead   # small ops as native (numba) kernels

The first call of the compiled step runs eagerly while tracing every op, gradient assignment and the
optimizer step into a graph; the graph is optimised and turned into straight-line NumPy code, which later
calls run. The script trains two identical models on the same batches, one eagerly and one compiled (their steps
alternate), checks that their losses agree step by step, and prints the measured time per step of each. The
default mode gives the eager losses bit for bit; ``--mode reduce-overhead`` runs small arrays' ops as numba
kernels, within float32 rounding of eager mode. See docs/compile.md.

This example is ember-specific (``step.graph``, ``step.source``); the model code is the same as in mlp.py and
cnn_digits.py.
"""
import argparse
import collections
import os
import time

# Tiny matrices: one BLAS thread is fastest (a thread pool is much slower when another process holds a core).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

import ember
from ember.datasets import Digits

nn = ember.nn
F = ember.nn.functional


def load_digits(as_images):
    """Train and test (inputs, labels) tensors, standardised with the training set's mean and std; inputs are
    (N, 1, 8, 8) images for the CNN or (N, 64) pixel vectors for the MLP."""
    splits = [Digits(train=True), Digits(train=False)]
    shape = (1, 8, 8) if as_images else (64,)
    pixels = [s.data.numpy().reshape((len(s),) + shape).astype(np.float32) / 255.0 for s in splits]
    mean, std = pixels[0].mean(), pixels[0].std()
    return [(ember.from_numpy((x - mean) / std), ember.from_numpy(s.targets.numpy())) for x, s in zip(pixels, splits)]


def make_model(name):
    if name == "mlp":
        return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 2 * 2, 10))


def batches(x, y, batch_size, epochs, seed):
    """The same shuffled full-size batches for both runs (one shape, so the compiled step traces once; a
    smaller last batch would be a new input shape and make a second trace)."""
    rng = np.random.default_rng(seed)
    n = len(y) - len(y) % batch_size
    for _ in range(epochs):
        order = ember.from_numpy(rng.permutation(len(y))[:n])
        yield [(x[order[i:i + batch_size]], y[order[i:i + batch_size]]) for i in range(0, n, batch_size)]


class Run:
    """One training run: a fresh model (seeded, so both runs start from the same weights), its optimizer, and its
    step function, eager or compiled. Each run keeps its own random-number state (for dropout), so the two runs
    draw the same masks although their steps alternate."""

    def __init__(self, model_name, lr, seed, compiled):
        ember.manual_seed(seed)
        self.model = model = make_model(model_name)
        optimizer = ember.optim.Adam(model.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss()

        def train_step(inputs, labels):
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), labels)
            loss.backward()
            optimizer.step()
            return loss

        self.step = ember.compile(train_step, mode=compiled) if compiled else train_step
        self.rng_state = ember.get_rng_state()
        self.losses, self.seconds = [], []

    def __call__(self, inputs, labels):
        ember.set_rng_state(self.rng_state)
        start = time.perf_counter()
        loss = self.step(inputs, labels)
        self.seconds.append(time.perf_counter() - start)
        self.rng_state = ember.get_rng_state()
        self.losses.append(loss.item())


def accuracy(model, inputs, labels):
    model.eval()
    with ember.no_grad():
        return (model(inputs).argmax(dim=1) == labels).float().mean().item()


def print_graph_summary(step, n_lines):
    graph = step.graph
    kinds = collections.Counter(n.kind for n in graph.nodes)
    ops = collections.Counter(n.name for n in graph.nodes if n.kind in ("op", "expr"))
    print(f"traces: {step.n_traces}")
    print(f"graph: {len(graph.inputs)} inputs, {len(graph.state)} state tensors, {len(graph.constants)} constants, "
          f"{len(graph.nodes)} nodes ({', '.join(f'{v} {k}' for k, v in kinds.most_common())}), "
          f"{getattr(graph, 'n_buffers', 0)} preallocated buffers")
    print("nodes by op: " + ", ".join(f"{name} x{count}" for name, count in ops.most_common()))
    listing = str(graph).splitlines()
    print(f"\nprint(step.graph), first {n_lines} of {len(listing)} lines:")
    print("\n".join(listing[:n_lines]))
    source = step.source.splitlines()
    print(f"\nprint(step.source), first {n_lines} of {len(source)} lines:")
    print("\n".join(source[:n_lines]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mode", choices=["default", "reduce-overhead"], default="default",
                        help="ember.compile's mode (default: bitwise eager's results)")
    parser.add_argument("--graph-lines", type=int, default=12, help="lines of the graph and source to print")
    args = parser.parse_args()

    (x_train, y_train), (x_test, y_test) = load_digits(as_images=args.model == "cnn")
    eager = Run(args.model, args.lr, args.seed, compiled=False)
    compiled = Run(args.model, args.lr, args.seed, compiled=args.mode)
    # the two runs take turns, step by step, so a change in the machine's load affects both alike
    for epoch, epoch_batches in enumerate(batches(x_train, y_train, args.batch_size, args.epochs, args.seed), 1):
        for inputs, labels in epoch_batches:
            eager(inputs, labels)
            compiled(inputs, labels)
        n = len(epoch_batches)
        print(f"epoch {epoch:2d}   loss eager {np.mean(eager.losses[-n:]):.4f}   "
              f"compiled {np.mean(compiled.losses[-n:]):.4f}")

    print()
    print_graph_summary(compiled.step, args.graph_lines)

    print()
    if eager.losses == compiled.losses:
        print(f"losses of the {len(eager.losses)} steps: identical")
    else:
        gap = max(abs(a - b) for a, b in zip(eager.losses, compiled.losses))
        print(f"losses of the {len(eager.losses)} steps: differ (largest gap {gap:.3g})")
    eager_ms = 1e3 * np.median(eager.seconds)
    compiled_ms = 1e3 * np.median(compiled.seconds[1:])
    print(f"first compiled call (eager run + trace + passes + codegen): {1e3 * compiled.seconds[0]:.1f} ms")
    print(f"median time per step: eager {eager_ms:.3f} ms, compiled {compiled_ms:.3f} ms")
    print(f"total time in steps: eager {sum(eager.seconds):.2f} s, compiled {sum(compiled.seconds):.2f} s "
          "(including the first call)")
    print(f"speed-up (median step): {eager_ms / compiled_ms:.2f}x")
    print(f"test accuracy eager {100 * accuracy(eager.model, x_test, y_test):.2f} %, "
          f"compiled {100 * accuracy(compiled.model, x_test, y_test):.2f} %")

if __name__ == "__main__":
    main()

"""L1 and L2 regularisation, written as PyTorch code, on the offline 8x8 handwritten digits.

    python examples/regularization.py [--epochs 30] [--weight-decay 5e-3] [--l1 2e-4]

The same MLP is trained three times from the same initial weights and the same batch order:

* none: plain cross-entropy.
* L2:   ``weight_decay`` in the optimizer. SGD adds ``weight_decay * w`` to every gradient, the gradient of
        ``weight_decay / 2 * ||w||^2``, so this IS L2 regularisation (with SGD; Adam's is the same, AdamW's
        decoupled decay is not). The biases go in a second param group with ``weight_decay=0``, as usual.
* L1:   no optimizer option exists for it: add ``l1 * sum(|w|)`` over the weights to the loss and let autograd
        differentiate it (``l1 * sign(w)``), which pulls every weight towards zero by the same amount and
        leaves many of them near zero (a sparse model).

For each it prints the train / test accuracy and the size of the weights (their L1 and L2 norms, and the
share of weights with ``|w| < 0.01``).
"""
import argparse

import ember as torch
from ember import nn, transforms
from ember.datasets import Digits
from ember.utils.data import DataLoader


def make_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def weights_of(model):
    """The weight matrices (what we regularise); biases are left alone."""
    return [p for name, p in model.named_parameters() if name.endswith("weight")]


def param_groups(model, weight_decay):
    decay = weights_of(model)
    no_decay = [p for name, p in model.named_parameters() if not name.endswith("weight")]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def l1_penalty(model):
    return sum(w.abs().sum() for w in weights_of(model))


def accuracy(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, targets in loader:
            correct += (model(images).argmax(dim=1) == targets).sum().item()
            total += len(targets)
    model.train()
    return correct / total


def train(kind, initial_state, train_data, test_data, args):
    model = make_model()
    model.load_state_dict(initial_state)
    weight_decay = args.weight_decay if kind == "L2" else 0.0
    optimizer = torch.optim.SGD(param_groups(model, weight_decay), lr=args.lr, momentum=0.9)
    torch.manual_seed(args.seed)  # the same batch order for every run
    train_loader = DataLoader(train_data, batch_size=args.batch_size, shuffle=True)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, args.epochs + 1):
        total = 0.0
        for images, targets in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(images), targets)
            total += loss.item() * len(targets)
            if kind == "L1":
                loss = loss + args.l1 * l1_penalty(model)
            loss.backward()
            optimizer.step()
        if epoch % max(1, args.epochs // 5) == 0 or epoch == args.epochs:
            print(f"  [{kind:4s}] epoch {epoch:3d}   cross-entropy {total / len(train_data):.4f}")
    eval_loader = DataLoader(train_data, batch_size=256)
    test_loader = DataLoader(test_data, batch_size=256)
    with torch.no_grad():
        flat = torch.cat([w.flatten() for w in weights_of(model)])
    return dict(train=accuracy(model, eval_loader), test=accuracy(model, test_loader), l1=flat.abs().sum().item(),
                l2=flat.norm().item(), small=(flat.abs() < 0.01).float().mean().item())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--weight-decay", type=float, default=5e-3, help="L2 strength (SGD weight_decay)")
    parser.add_argument("--l1", type=float, default=2e-4, help="L1 strength (penalty added to the loss)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    train_data = Digits(train=True, transform=transforms.ToTensor())  # (1, 8, 8) floats in [0, 1]
    test_data = Digits(train=False, transform=transforms.ToTensor())
    print(f"digits: {len(train_data)} training and {len(test_data)} test images")
    torch.manual_seed(args.seed)
    initial_state = {k: v.clone() for k, v in make_model().state_dict().items()}

    results = {kind: train(kind, initial_state, train_data, test_data, args) for kind in ("none", "L2", "L1")}
    print(f"\n{'regularisation':16s}{'train acc':>10s}{'test acc':>10s}{'sum|w|':>10s}{'||w||_2':>10s}"
          f"{'|w|<0.01':>10s}")
    for kind, r in results.items():
        print(f"{kind:16s}{r['train']:10.4f}{r['test']:10.4f}{r['l1']:10.2f}{r['l2']:10.3f}{r['small']:10.3f}")


if __name__ == "__main__":
    main()

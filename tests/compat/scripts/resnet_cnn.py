"""The shape of a CIFAR-style ResNet script: BasicBlocks with BatchNorm and a projection shortcut, kaiming
initialisation through model.apply, channels_last tensors, augmentation written with tensor ops (random crop via
F.pad and slicing, horizontal flips via torch.flip), TensorDataset + random_split, SGD with Nesterov momentum
and OneCycleLR, a checkpoint of model/optimizer/scheduler/epoch resumed for the last epoch, evaluation under
no_grad. Synthetic task: which quadrant of a 16x16 image holds a bright square."""
import argparse
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = BasicBlock(8, 8)
        self.layer2 = BasicBlock(8, 16, stride=2)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer2(self.layer1(out))
        return self.fc(torch.flatten(self.pool(out), 1))


def init_weights(m):
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.constant_(m.weight, 1)
        nn.init.constant_(m.bias, 0)


def make_data(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, 16, 16, generator=g) * 0.3
    y = torch.randint(0, 4, (n,), generator=g)
    for i in range(n):
        r, c = divmod(int(y[i]), 2)
        x[i, :, r * 8 + 2:r * 8 + 6, c * 8 + 2:c * 8 + 6] += 1.0
    return x, y


def augment(x):
    padded = F.pad(x, (2, 2, 2, 2), mode="reflect")
    i, j = torch.randint(0, 5, (2,)).tolist()
    x = padded[:, :, i:i + 16, j:j + 16]
    # a horizontal flip would move the square to the other quadrant: flip the colour channels instead
    return torch.where(torch.rand(x.size(0), 1, 1, 1) < 0.5, torch.flip(x, dims=[1]), x)


def run_epoch(model, loader, optimizer, scheduler):
    model.train()
    total = 0.0
    for x, y in loader:
        x = augment(x).contiguous(memory_format=torch.channels_last)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total += loss.item() * y.size(0)
    return total / len(loader.dataset)


def accuracy(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x.to(memory_format=torch.channels_last)).argmax(1) == y).sum().item()
    return correct / len(loader.dataset)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    torch.manual_seed(0)
    x, y = make_data(384, 1)
    train_set, val_set = random_split(TensorDataset(x, y), [320, 64], generator=torch.Generator().manual_seed(0))
    train = DataLoader(train_set, batch_size=32, shuffle=True, drop_last=True)
    val = DataLoader(val_set, batch_size=64)
    model = ResNet().to(memory_format=torch.channels_last)
    model.apply(init_weights)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, epochs=args.epochs,
                                                    steps_per_epoch=len(train))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "checkpoint.pt")
        for epoch in range(args.epochs - 1):
            loss = run_epoch(model, train, optimizer, scheduler)
            print(f"epoch {epoch} loss {loss:.4f} val {accuracy(model, val):.3f}")
            torch.save({"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict()}, path)
        checkpoint = torch.load(path)  # resume for the last epoch, as after an interruption
        model = ResNet().to(memory_format=torch.channels_last)
        model.load_state_dict(checkpoint["model"])
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, epochs=args.epochs,
                                                        steps_per_epoch=len(train))
        scheduler.load_state_dict(checkpoint["scheduler"])
        loss = run_epoch(model, train, optimizer, scheduler)
    print(f"FINAL loss {loss:.4f} accuracy {accuracy(model, val):.4f} epoch {checkpoint['epoch'] + 2}")


if __name__ == "__main__":
    main()

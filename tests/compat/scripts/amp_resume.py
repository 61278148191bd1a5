"""Idioms of modern training scripts around the model: device and AMP switches that are off on a CPU, a
GradScaler/autocast loop written for both, TF32/cudnn flags, a checkpoint with optimizer and scheduler state
saved and resumed with map_location, and evaluation under inference_mode."""
import argparse
import os
import tempfile

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset, random_split


def make_model():
    return nn.Sequential(nn.Linear(8, 32), nn.GELU(), nn.LayerNorm(32), nn.Linear(32, 1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--epochs', type=int, default=6)
    args = parser.parse_args()
    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    use_amp = device == "cuda"
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.set_float32_matmul_precision("high")
    x = torch.randn(600, 8)
    y = x @ torch.randn(8, 1) + 0.1 * torch.randn(600, 1)
    train_set, val_set = random_split(TensorDataset(x, y), [500, 100], generator=torch.Generator().manual_seed(0))
    train_loader = DataLoader(train_set, batch_size=50, shuffle=True, drop_last=True)
    val_loader = DataLoader(val_set, batch_size=100)
    model = make_model().to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    scaler = torch.amp.GradScaler(device, enabled=use_amp)
    ckpt = os.path.join(tempfile.mkdtemp(), "ckpt.pt")

    def run_epoch():
        model.train()
        for xb, yb in train_loader:
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device_type=device, dtype=torch.float16, enabled=use_amp):
                loss = nn.functional.mse_loss(model(xb), yb)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(optimizer)
            scaler.update()
        scheduler.step()

    def evaluate(m):
        m.eval()
        with torch.inference_mode():
            return sum(nn.functional.mse_loss(m(xb), yb, reduction="sum").item() for xb, yb in val_loader) / 100

    before = evaluate(model)
    half = args.epochs // 2
    for _ in range(half):
        run_epoch()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict(), "epoch": half}, ckpt)
    state = torch.load(ckpt, map_location=device)  # resume as a fresh process would
    model = make_model().to(device)
    model.load_state_dict(state["model"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    optimizer.load_state_dict(state["optimizer"])
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    scheduler.load_state_dict(state["scheduler"])
    if use_amp:
        scaler.load_state_dict(state["scaler"])
    for _ in range(state["epoch"], args.epochs):
        run_epoch()
    after = evaluate(model)
    print(f"FINAL val mse before {before:.4f} after {after:.4f} lr {scheduler.get_last_lr()[0]:.6f}")


if __name__ == '__main__':
    main()

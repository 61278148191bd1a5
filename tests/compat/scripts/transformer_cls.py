"""The shape of a modern transformer classification script: a Dataset of variable-length token sequences, a
collate_fn with pad_sequence and a padding mask, a positional encoding buffer, nn.TransformerEncoder
(batch_first) with src_key_padding_mask, masked mean pooling, AdamW with no weight decay on biases and norms, a
LambdaLR warmup + cosine schedule, label smoothing, gradient clipping, evaluation under inference_mode, and a
state_dict saved and loaded back. Synthetic task: does the sequence contain token 7?"""
import argparse
import math
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader, Dataset

PAD = 0


class Sequences(Dataset):
    def __init__(self, n, vocab, seed):
        g = torch.Generator().manual_seed(seed)
        self.items = []
        for i in range(n):
            length = int(torch.randint(4, 13, (1,), generator=g))
            tokens = torch.randint(1, vocab, (length,), generator=g)
            tokens[tokens == 7] = 8
            if i % 2:
                tokens[int(torch.randint(0, length, (1,), generator=g))] = 7
            self.items.append((tokens, int(i % 2)))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def collate(batch):
    seqs, labels = zip(*batch)
    x = pad_sequence(list(seqs), batch_first=True, padding_value=PAD)
    return x, x == PAD, torch.tensor(labels)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=64):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(1, max_len, d_model)
        pe[0, :, 0::2] = torch.sin(position * div_term)
        pe[0, :, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return x + self.pe[:, :x.size(1)]


class Classifier(nn.Module):
    def __init__(self, vocab, d_model=32, nhead=4, layers=2, classes=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model, padding_idx=PAD)
        self.pos = PositionalEncoding(d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=64, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, classes)

    def forward(self, x, pad_mask):
        h = self.encoder(self.pos(self.embed(x) * math.sqrt(self.embed.embedding_dim)),
                         src_key_padding_mask=pad_mask)
        keep = (~pad_mask).unsqueeze(-1).float()
        pooled = (h * keep).sum(1) / keep.sum(1).clamp(min=1.0)
        return self.head(self.norm(pooled))


def param_groups(model, weight_decay):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim < 2 or "norm" in name else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def evaluate(model, loader):
    model.eval()
    correct = total = 0
    with torch.inference_mode():
        for x, mask, y in loader:
            correct += (model(x, mask).argmax(dim=-1) == y).sum().item()
            total += y.numel()
    return correct / total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=3e-3)
    args = parser.parse_args()
    torch.manual_seed(0)
    vocab = 20
    train = DataLoader(Sequences(512, vocab, 1), batch_size=32, shuffle=True, collate_fn=collate)
    test = DataLoader(Sequences(128, vocab, 2), batch_size=64, collate_fn=collate)
    model = Classifier(vocab)
    optimizer = torch.optim.AdamW(param_groups(model, 0.01), lr=args.lr)
    total_steps = args.epochs * len(train)
    warmup = total_steps // 10

    def schedule(step):
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total_steps - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    for epoch in range(args.epochs):
        model.train()
        for x, mask, y in train:
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(x, mask), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
        print(f"epoch {epoch} loss {loss.item():.4f} lr {scheduler.get_last_lr()[0]:.2e}")
    accuracy = evaluate(model, test)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "classifier.pt")
        torch.save(model.state_dict(), path)
        restored = Classifier(vocab)
        restored.load_state_dict(torch.load(path))
    reloaded = evaluate(restored, test)
    print(f"FINAL accuracy {accuracy:.4f} reloaded {reloaded:.4f}")


if __name__ == "__main__":
    main()

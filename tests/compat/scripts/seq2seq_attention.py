"""The shape of the seq2seq-with-attention tutorials: a bidirectional GRU encoder over packed, unsorted
variable-length batches (pack_padded_sequence(enforce_sorted=False) / pad_packed_sequence), a GRU decoder with
dot-product attention (bmm, masked_fill of padding, softmax), teacher forcing chosen per batch, NLL loss with
ignore_index, gradient clipping, greedy decoding and sampling with torch.multinomial at a temperature.
Synthetic task: reverse a sequence of digits."""
import argparse
import random

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

PAD, SOS, EOS = 0, 1, 2
VOCAB = 13  # 3 specials + 10 digits


def batch(n, rng):
    lengths = [rng.randint(3, 7) for _ in range(n)]
    seqs = [[rng.randint(3, VOCAB - 1) for _ in range(k)] for k in lengths]
    src = torch.full((n, max(lengths)), PAD, dtype=torch.long)
    tgt = torch.full((n, max(lengths) + 1), PAD, dtype=torch.long)
    for i, s in enumerate(seqs):
        src[i, :len(s)] = torch.tensor(s)
        tgt[i, :len(s) + 1] = torch.tensor(s[::-1] + [EOS])
    return src, torch.tensor(lengths), tgt


class Encoder(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, hidden, padding_idx=PAD)
        self.rnn = nn.GRU(hidden, hidden, batch_first=True, bidirectional=True)
        self.project = nn.Linear(2 * hidden, hidden)

    def forward(self, src, lengths):
        packed = pack_padded_sequence(self.embed(src), lengths, batch_first=True, enforce_sorted=False)
        out, h = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=src.size(1))
        return self.project(out), torch.tanh(self.project(torch.cat([h[0], h[1]], dim=1))).unsqueeze(0)


class Decoder(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, hidden, padding_idx=PAD)
        self.rnn = nn.GRU(hidden, hidden, batch_first=True)
        self.out = nn.Linear(2 * hidden, VOCAB)

    def forward(self, token, h, memory, src_mask):
        step, h = self.rnn(self.embed(token).unsqueeze(1), h)
        scores = torch.bmm(step, memory.transpose(1, 2)).masked_fill(~src_mask.unsqueeze(1), float("-inf"))
        context = torch.bmm(F.softmax(scores, dim=-1), memory)
        return F.log_softmax(self.out(torch.cat([step, context], dim=-1).squeeze(1)), dim=-1), h


def decode(encoder, decoder, src, lengths, steps, temperature=None):
    memory, h = encoder(src, lengths)
    mask = src != PAD
    token = torch.full((src.size(0),), SOS, dtype=torch.long)
    out = []
    for _ in range(steps):
        logp, h = decoder(token, h, memory, mask)
        if temperature is None:
            token = logp.argmax(dim=-1)
        else:
            token = torch.multinomial(F.softmax(logp / temperature, dim=-1), 1).squeeze(1)
        out.append(token)
    return torch.stack(out, dim=1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=250)
    args = parser.parse_args()
    torch.manual_seed(0)
    rng = random.Random(0)
    encoder, decoder = Encoder(48), Decoder(48)
    params = list(encoder.parameters()) + list(decoder.parameters())
    optimizer = torch.optim.Adam(params, lr=3e-3)
    for step in range(args.steps):
        src, lengths, tgt = batch(32, rng)
        memory, h = encoder(src, lengths)
        mask = src != PAD
        token = torch.full((src.size(0),), SOS, dtype=torch.long)
        teacher = rng.random() < 0.7
        loss = 0.0
        for t in range(tgt.size(1)):
            logp, h = decoder(token, h, memory, mask)
            loss = loss + F.nll_loss(logp, tgt[:, t], ignore_index=PAD)
            token = tgt[:, t] if teacher else logp.argmax(dim=-1).detach()
        optimizer.zero_grad()
        (loss / tgt.size(1)).backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        if step % 50 == 0:
            print(f"step {step} loss {loss.item() / tgt.size(1):.4f}")
    encoder.eval()
    decoder.eval()
    with torch.no_grad():
        src, lengths, tgt = batch(200, random.Random(1))
        pred = decode(encoder, decoder, src, lengths, tgt.size(1))
        keep = tgt != PAD
        token_accuracy = ((pred == tgt) & keep).sum().item() / keep.sum().item()
        sampled = decode(encoder, decoder, src, lengths, tgt.size(1), temperature=0.5)
    assert sampled.shape == tgt.shape and int(sampled.min()) >= 0 and int(sampled.max()) < VOCAB
    print(f"FINAL accuracy {token_accuracy:.4f}")


if __name__ == "__main__":
    main()

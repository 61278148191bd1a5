"""The shape of pytorch/examples' vae/main.py: the reparameterisation trick, a summed BCE plus KL loss, Adam,
sampling from the prior under no_grad; synthetic binary 'images' so that it runs offline."""
import argparse

import torch
import torch.utils.data
from torch import nn, optim
from torch.nn import functional as F


class VAE(nn.Module):
    def __init__(self):
        super(VAE, self).__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc21 = nn.Linear(32, 4)
        self.fc22 = nn.Linear(32, 4)
        self.fc3 = nn.Linear(4, 32)
        self.fc4 = nn.Linear(32, 64)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 64))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 64), reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def main():
    parser = argparse.ArgumentParser(description='VAE Example')
    parser.add_argument('--epochs', type=int, default=8)
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    prototypes = (torch.rand(4, 64) > 0.5).float()  # four binary patterns, noisy copies of them as data
    data = prototypes[torch.randint(0, 4, (512,))]
    flips = (torch.rand(512, 64) < 0.05).float()
    data = (data + flips) % 2
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data), batch_size=64, shuffle=True)
    model = VAE().to(device)
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for epoch in range(1, args.epochs + 1):
        model.train()
        train_loss = 0
        for (x,) in loader:
            x = x.to(device)
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(x)
            loss = loss_function(recon_batch, x, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
        avg = train_loss / len(loader.dataset)
        first = avg if first is None else first
        print('====> Epoch: {} Average loss: {:.4f}'.format(epoch, avg))
    with torch.no_grad():
        sample = model.decode(torch.randn(16, 4).to(device)).cpu()
        assert sample.shape == (16, 64) and 0 <= sample.min().item() and sample.max().item() <= 1
    print(f"FINAL first {first:.4f} last {avg:.4f}")


if __name__ == "__main__":
    main()

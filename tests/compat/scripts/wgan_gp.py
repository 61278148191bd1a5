"""The shape of a WGAN-GP script on a 2-D toy distribution: generator and critic MLPs with LeakyReLU(inplace),
two Adam optimizers with betas (0.5, 0.9), several critic steps per generator step, the gradient penalty through
torch.autograd.grad(create_graph=True) on random interpolates, fake samples detached for the critic, a custom
autograd.Function (a straight-through clamp), a tensor hook, requires_grad_ toggling to freeze the critic.
Synthetic data: eight Gaussians on a circle; success is generated samples landing near the modes."""
import argparse
import math

import torch
import torch.nn as nn


class StraightThroughClamp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, bound):
        return x.clamp(-bound, bound)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


def real_batch(n, g):
    angles = torch.randint(0, 8, (n,), generator=g).float() * (2 * math.pi / 8)
    centres = torch.stack([torch.cos(angles), torch.sin(angles)], dim=1) * 2.0
    return centres + 0.05 * torch.randn(n, 2, generator=g)


def mlp(n_in, n_out, hidden=64):
    return nn.Sequential(nn.Linear(n_in, hidden), nn.LeakyReLU(0.2, inplace=True), nn.Linear(hidden, hidden),
                         nn.LeakyReLU(0.2, inplace=True), nn.Linear(hidden, n_out))


def gradient_penalty(critic, real, fake):
    alpha = torch.rand(real.size(0), 1).expand_as(real)
    interpolates = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = critic(interpolates)
    grads, = torch.autograd.grad(outputs=scores, inputs=interpolates, grad_outputs=torch.ones_like(scores),
                                 create_graph=True, retain_graph=True)
    return ((grads.norm(2, dim=1) - 1) ** 2).mean()


def mode_distance(samples):
    angles = torch.arange(8).float() * (2 * math.pi / 8)
    centres = torch.stack([torch.cos(angles), torch.sin(angles)], dim=1) * 2.0
    return torch.cdist(samples, centres).min(dim=1).values.median().item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args()
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    generator, critic = mlp(2, 2), mlp(2, 1)
    opt_g = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.9))
    opt_c = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))
    grad_norms = []
    noise_for_eval = torch.randn(512, 2)
    with torch.no_grad():
        before = mode_distance(generator(noise_for_eval))
    for it in range(args.iterations):
        for p in critic.parameters():
            p.requires_grad_(True)
        for _ in range(3):
            real = real_batch(128, g)
            fake = generator(torch.randn(128, 2)).detach()
            opt_c.zero_grad()
            loss_c = critic(fake).mean() - critic(real).mean() + 0.1 * gradient_penalty(critic, real, fake)
            loss_c.backward()
            opt_c.step()
        for p in critic.parameters():
            p.requires_grad_(False)
        opt_g.zero_grad()
        fake = StraightThroughClamp.apply(generator(torch.randn(128, 2)), 3.0)
        fake.register_hook(lambda grad: grad_norms.append(grad.norm().item()))
        loss_g = -critic(fake).mean()
        loss_g.backward()
        opt_g.step()
        if it % 200 == 0:
            print(f"iteration {it} critic {loss_c.item():.4f} generator {loss_g.item():.4f}")
    with torch.no_grad():
        after = mode_distance(generator(noise_for_eval))
    print(f"FINAL before {before:.4f} after {after:.4f} hooks {len(grad_norms)}")


if __name__ == "__main__":
    main()

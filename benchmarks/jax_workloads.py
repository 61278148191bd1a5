"""The workloads of ``workloads.py`` in JAX: the same maths written functionally, run under ``jax.jit``.

Parameters are the same {state_dict name: array} dict the other frameworks load. The optimisers follow
torch's update rules exactly (Adam: lerp of the first moment, bias corrections, ``sqrt(v)/sqrt(bc2) + eps``;
SGD with momentum: ``buf = momentum * buf + grad``, ``p -= lr * buf``). The step is jitted with the
parameters and optimiser state donated, so XLA updates them in place as the other frameworks do.
"""
import numpy as np

from workloads import Runner


def _modules():
    import jax
    import jax.numpy as jnp
    from jax import lax

    return jax, jnp, lax


def _linear(jnp, p, name, x):
    return x @ p[name + ".weight"].T + p[name + ".bias"]


def _mlp_forward(jnp, p, x, n_layers):
    for i in range(n_layers):
        x = _linear(jnp, p, str(2 * i), x)
        if i < n_layers - 1:
            x = jnp.maximum(x, 0)
    return x


def _lenet_forward(jnp, lax, p, x):
    def conv(x, name, pad):
        y = lax.conv_general_dilated(x, p[name + ".weight"], (1, 1), [(pad, pad), (pad, pad)],
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return y + p[name + ".bias"][None, :, None, None]

    def pool(x):
        return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

    x = pool(jnp.maximum(conv(x, "0", 2), 0))
    x = pool(jnp.maximum(conv(x, "3", 0), 0))
    x = x.reshape(x.shape[0], -1)
    x = jnp.maximum(_linear(jnp, p, "7", x), 0)
    x = jnp.maximum(_linear(jnp, p, "9", x), 0)
    return _linear(jnp, p, "11", x)


def _lstm_forward(jax, jnp, lax, p, x):
    """torch's LSTM (gate order i, f, g, o) over a (seq, batch, input) sequence; the last h -> Linear."""
    w_ih, w_hh = p["lstm.weight_ih_l0"], p["lstm.weight_hh_l0"]
    bias = p["lstm.bias_ih_l0"] + p["lstm.bias_hh_l0"]
    hidden = w_hh.shape[1]
    projected = x @ w_ih.T + bias

    def cell(carry, gates_x):
        h, c = carry
        gates = gates_x + h @ w_hh.T
        i, f, g, o = (gates[:, k * hidden:(k + 1) * hidden] for k in range(4))
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), None

    zeros = jnp.zeros((x.shape[1], hidden), x.dtype)
    (h, _), _ = lax.scan(cell, (zeros, zeros), projected)
    return _linear(jnp, p, "fc", h)


def _forward(name, jax, jnp, lax):
    base = name.rstrip("i")
    if base in ("W1", "W2", "W5"):
        n_layers = {"W1": 2, "W2": 3, "W5": 3}[base]
        return lambda p, x: _mlp_forward(jnp, p, x, n_layers)
    if base == "W3":
        return lambda p, x: _lenet_forward(jnp, lax, p, x)
    if base == "W4":
        return lambda p, x: _lstm_forward(jax, jnp, lax, p, x)
    raise KeyError(name)


def _loss(name, jax, jnp):
    if name == "W1":  # BCEWithLogits, mean
        return lambda z, y: jnp.mean(jnp.maximum(z, 0) - z * y + jnp.log1p(jnp.exp(-jnp.abs(z))))
    if name == "W5":  # MSE, mean
        return lambda z, y: jnp.mean((z - y) ** 2)

    def cross_entropy(z, y):
        logp = z - jax.scipy.special.logsumexp(z, axis=1, keepdims=True)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    return cross_entropy


def _optimizer(name, jax, jnp):
    """(init(params) -> state, update(params, grads, state) -> (params, state)) with torch's rules."""
    if name in ("W3", "W5"):
        lr, momentum = 0.01, (0.9 if name == "W3" else 0.0)

        def init(params):
            return {k: jnp.zeros_like(v) for k, v in params.items()} if momentum else {}

        def update(params, grads, state):
            if not momentum:
                return {k: params[k] - lr * grads[k] for k in params}, state
            buf = {k: momentum * state[k] + grads[k] for k in params}
            return {k: params[k] - lr * buf[k] for k in params}, buf

        return init, update

    lr, b1, b2, eps = (0.01 if name == "W1" else 1e-3), 0.9, 0.999, 1e-8

    def init(params):
        def zeros():  # fresh buffers each (the state is donated: no two leaves may share one)
            return {k: jnp.zeros_like(v) for k, v in params.items()}

        return {"m": zeros(), "v": zeros(), "t": jnp.zeros((), jnp.float32)}

    def update(params, grads, state):
        t = state["t"] + 1
        m = {k: state["m"][k] + (grads[k] - state["m"][k]) * (1 - b1) for k in params}
        v = {k: state["v"][k] * b2 + grads[k] * grads[k] * (1 - b2) for k in params}
        step_size = lr / (1 - b1 ** t)
        bc2_sqrt = jnp.sqrt(1 - b2 ** t)
        new = {k: params[k] - step_size * m[k] / (jnp.sqrt(v[k]) / bc2_sqrt + eps) for k in params}
        return new, {"m": m, "v": v, "t": t}

    return init, update


def build_jax(workload, size="full", seed=0):
    """A Runner for the workload under ``jax.jit``; its state (parameters, optimiser state) lives in the
    runner and is replaced by each step's outputs."""
    jax, jnp, lax = _modules()
    d = workload.dims(size)
    params = {k: jnp.asarray(v) for k, v in workload.weights(d, seed).items()}
    batches = [(jnp.asarray(x), jnp.asarray(y)) for x, y in workload.batches(d)]
    forward = _forward(workload.name, jax, jnp, lax)

    if workload.inference:
        infer = jax.jit(forward)

        def step(x, y):
            return infer(params, x)

        return Runner(step, batches, np.asarray, sync=jax.block_until_ready)

    loss_fn = _loss(workload.name, jax, jnp)
    opt_init, opt_update = _optimizer(workload.name, jax, jnp)

    def train_step(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(lambda p: loss_fn(forward(p, x), y))(params)
        params, opt_state = opt_update(params, grads, opt_state)
        return params, opt_state, loss

    jitted = jax.jit(train_step, donate_argnums=(0, 1))
    state = {"params": params, "opt": opt_init(params)}

    def to_numpy(out):
        return np.asarray(out["loss"]) if isinstance(out, dict) and "loss" in out else np.asarray(out)

    def sync(out):
        jax.block_until_ready(out)

    # the step returns the whole new state, so that sync waits for the parameter update too
    def step_with_loss(x, y):
        state["params"], state["opt"], loss = jitted(state["params"], state["opt"], x, y)
        return {"params": state["params"], "opt": state["opt"], "loss": loss}

    return Runner(step_with_loss, batches, to_numpy, sync=sync)

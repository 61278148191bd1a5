"""L-BFGS: limited-memory BFGS over all parameters as one flat vector, optionally with a strong-Wolfe line search.

The iteration is torch's (minFunc's): the same history updates, step-size rules, line search and stopping tests.
Vectors are NumPy arrays of the parameters' dtype and scalars NumPy scalars of that dtype (a float32 dot product
stays float32, as torch's 0-dim tensors do); ``state`` holds them as ember Tensors so ``state_dict`` round-trips.
"""
import numpy as np

from .._tensor import Tensor, _make
from ..autograd.grad_mode import enable_grad
from ._line_search import strong_wolfe
from .optimizer import Optimizer, _check_lr, _use_grad, _value

__all__ = ["LBFGS"]

_VECTORS = ("d", "prev_flat_grad")
_LISTS = ("old_dirs", "old_stps", "ro", "al")
_SCALARS = ("t", "H_diag")


def _to_state(x):
    """NumPy values -> Tensors for the state dict (Python numbers and None stay as they are)."""
    if isinstance(x, (np.ndarray, np.generic)):
        return _make(np.array(x))
    return x


def _from_state(x):
    """Tensors from the state dict -> NumPy (a 0-dim tensor becomes a NumPy scalar of its dtype)."""
    if isinstance(x, Tensor):
        return x._data.copy() if x._data.ndim else x._data[()]
    return x


class LBFGS(Optimizer):
    """torch.optim.LBFGS. ``step(closure)`` runs up to ``max_iter`` iterations (``max_eval`` closure calls);
    ``closure`` must clear the gradients, compute the loss, call ``backward()`` and return the loss. One param
    group only; its state lives under the first parameter, as in torch."""

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        _check_lr(lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")

    @property
    def _params(self):
        return self.param_groups[0]["params"]

    # ---- the flat vector of all parameters ----------------------------------------------------------------
    def _gather_flat_grad(self):
        return np.concatenate([np.zeros(p._data.size, p._data.dtype) if p.grad is None else
                               p.grad._data.reshape(-1) for p in self._params])

    def _add_grad(self, step_size, update):
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += (update[offset:offset + n] * step_size).reshape(p._data.shape)
            p._version[0] += 1
            offset += n

    def _clone_param(self):
        return [p._data.copy() for p in self._params]

    def _set_param(self, params_data):
        for p, data in zip(self._params, params_data):
            np.copyto(p._data, data)
            p._version[0] += 1

    def _evaluate(self, closure):
        with enable_grad():
            return closure()

    def _directional_evaluate(self, closure, x, t, d):
        self._add_grad(t, d)
        loss = float(self._evaluate(closure))
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # ---- the step -----------------------------------------------------------------------------------------
    @_use_grad
    def step(self, closure):
        group = self.param_groups[0]
        lr = _value(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._evaluate(closure)
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss

        d, t, H_diag, prev_flat_grad = (_from_state(state.get(k)) for k in ("d", "t", "H_diag", "prev_flat_grad"))
        old_dirs, old_stps, ro = ([_from_state(v) for v in state.get(k) or []] for k in ("old_dirs", "old_stps", "ro"))
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # the descent direction
            if state["n_iter"] == 1:
                d = np.negative(flat_grad)
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = np.dot(y, s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / np.dot(y, y)
                d = self._two_loop(state, np.negative(flat_grad), old_dirs, old_stps, ro, H_diag, history_size)

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                np.copyto(prev_flat_grad, flat_grad)
            prev_loss = loss

            # the step length
            t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = np.dot(flat_grad, d)
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = self._clone_param()

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = strong_wolfe(obj_func, x_init, t, d, loss, flat_grad, gtd,
                                                                 max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:  # (the last iteration's loss is not needed: the next step evaluates it)
                    loss = float(self._evaluate(closure))
                    flat_grad = self._gather_flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1

            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # stopping tests
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state["d"], state["t"], state["H_diag"] = _to_state(d), _to_state(t), _to_state(H_diag)
        state["old_dirs"], state["old_stps"], state["ro"] = ([_to_state(v) for v in vs]
                                                             for vs in (old_dirs, old_stps, ro))
        state["prev_flat_grad"] = _to_state(prev_flat_grad)
        state["prev_loss"] = prev_loss
        return orig_loss

    @staticmethod
    def _two_loop(state, q, old_dirs, old_stps, ro, H_diag, history_size):
        """The L-BFGS two-loop recursion: the approximate inverse Hessian times ``q`` (the negative gradient).
        The coefficients ``al`` stay in the state between steps (a list of ``history_size`` entries), as torch's."""
        al = [_from_state(v) for v in state.get("al") or [None] * history_size]
        num_old = len(old_dirs)
        for i in range(num_old - 1, -1, -1):
            al[i] = np.dot(old_stps[i], q) * ro[i]
            q += old_dirs[i] * -al[i]
        r = q * H_diag
        for i in range(num_old):
            be_i = np.dot(old_dirs[i], r) * ro[i]
            r += old_stps[i] * (al[i] - be_i)
        state["al"] = [_to_state(v) for v in al]
        return r

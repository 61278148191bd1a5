"""A compiled step must follow its inputs: any array that an ember function derives from a tensor's values
outside an op would be recorded by the trace as a constant and replayed at every later call (session 5 found
that in one_hot, isclose, view(dtype), index_select/index_fill/index_add, take_along_dim, embedding and
nll_loss). Each case is compiled on inputs A (two calls), then called on inputs B and compared with eager mode.
"""

import numpy as np
import pytest

import ember

F = ember.nn.functional
rng = np.random.default_rng(0)
x = rng.standard_normal((4, 5)).astype(np.float32)
x2 = rng.standard_normal((4, 5)).astype(np.float32)
idx_a = np.array([[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]])
idx_b = np.array([[4, 4, 4, 4, 4], [0, 1, 0, 1, 0], [2, 3, 2, 3, 2], [1, 0, 1, 0, 1]])
CASES = {
 "gather": (lambda x, i: ember.gather(x, 1, i), (x, idx_a), (x2, idx_b)),
 "scatter": (lambda x, i: ember.scatter(x, 1, i[:, :2], x[:, :2] * 2), (x, idx_a), (x2, idx_b)),
 "scatter_add": (lambda x, i: ember.scatter_add(x, 1, i, x), (x, idx_a), (x2, idx_b)),
 "take": (lambda x, i: ember.take(x, i), (x, idx_a), (x2, idx_b)),
 "take_neg": (lambda x, i: ember.take(x, -i - 1), (x, idx_a), (x2, idx_b)),
 "take_along_dim": (lambda x, i: ember.take_along_dim(x, i, 1), (x, idx_a), (x2, idx_b)),
 "take_along_dim_none": (lambda x, i: ember.take_along_dim(x, -i.reshape(-1)), (x, idx_a), (x2, idx_b)),
 "index_select": (lambda x, i: ember.index_select(x, 1, i[0]), (x, idx_a), (x2, idx_b)),
 "index_fill": (lambda x, i: x.index_fill(1, i[0, :2], -1.0), (x, idx_a), (x2, idx_b)),
 "index_add": (lambda x, i: x.index_add(1, i[0], x), (x, idx_a), (x2, idx_b)),
 "getitem_tensor": (lambda x, i: x[i[0] % 4], (x, idx_a), (x2, idx_b)),
 "getitem_bool": (lambda x, i: x * (i > 2), (x, idx_a), (x2, idx_b)),
 "masked_fill": (lambda x, i: x.masked_fill(i > 2, 0.5), (x, idx_a), (x2, idx_b)),
 "where_scalar": (lambda x, i: ember.where(i > 2, x, 0.0), (x, idx_a), (x2, idx_b)),
 "embedding": (lambda x, i: F.embedding(i, x.T), (x, idx_a[:, :3]), (x2, idx_b[:, :3])),
 "cross_entropy": (lambda x, i: F.cross_entropy(x, i[:, 0]), (x, idx_a), (x2, idx_b)),
 "nll_w": (lambda x, i: F.nll_loss(x, i[:, 0], weight=x[0].abs()), (x, idx_a), (x2, idx_b)),
 "ce_smooth": (lambda x, i: F.cross_entropy(x, i[:, 0], label_smoothing=0.1), (x, idx_a), (x2, idx_b)),
 "ce_probs": (lambda x, i: F.cross_entropy(x, (i / 10.0).float().softmax(1)), (x, idx_a), (x2, idx_b)),
 "one_hot": (lambda x, i: F.one_hot(i[:, 0], 5).float() * x, (x, idx_a), (x2, idx_b)),
 "argmax_gather": (lambda x, i: x.gather(1, x.argmax(1, keepdim=True)), (x, idx_a), (x2, idx_b)),
 "topk": (lambda x, i: x.topk(2, 1)[0], (x, idx_a), (x2, idx_b)),
 "sort": (lambda x, i: x.sort(1)[1].float(), (x, idx_a), (x2, idx_b)),
 "bucketize": (lambda x, i: ember.bucketize(x, ember.tensor([-1.0, 0.0, 1.0])).float(), (x, idx_a), (x2, idx_b)),
 "searchsorted": (lambda x, i: ember.searchsorted(x.sort(1)[0], x).float(), (x, idx_a), (x2, idx_b)),
 "clamp_t": (lambda x, i: x.clamp(min=x[0]), (x, idx_a), (x2, idx_b)),
 "tril": (lambda x, i: x.tril(), (x, idx_a), (x2, idx_b)),
 "cumsum": (lambda x, i: x.cumsum(1), (x, idx_a), (x2, idx_b)),
 "pad": (lambda x, i: F.pad(x, (1, 1), value=2.0), (x, idx_a), (x2, idx_b)),
 "dropout_eval": (lambda x, i: F.dropout(x, 0.5, training=False), (x, idx_a), (x2, idx_b)),
 "mse": (lambda x, i: F.mse_loss(x, i.float()), (x, idx_a), (x2, idx_b)),
 "bce": (lambda x, i: F.binary_cross_entropy(x.sigmoid(), (i > 2).float()), (x, idx_a), (x2, idx_b)),
 "huber": (lambda x, i: F.smooth_l1_loss(x, i.float()), (x, idx_a), (x2, idx_b)),
 "kl": (lambda x, i: F.kl_div(x.log_softmax(1), (i.float() + 1).softmax(1), reduction="batchmean"),
        (x, idx_a), (x2, idx_b)),
 "margin": (lambda x, i: F.multi_margin_loss(x, i[:, 0]), (x, idx_a), (x2, idx_b)),
 "cosine_emb": (lambda x, i: F.cosine_embedding_loss(x, x.flip(0), (i[:, 0] > 1).long() * 2 - 1),
                (x, idx_a), (x2, idx_b)),
 "interpolate": (lambda x, i: F.interpolate(x[None], size=7, mode="linear"), (x, idx_a), (x2, idx_b)),
}


def assert_follows(f, first, later):
    """Compile ``f``, call it twice on the arrays ``first``, then compare it on ``later`` with eager mode: one
    trace, equal results (a tensor or a tuple of them)."""
    g = ember.compile(f, fallback="error")
    with ember.no_grad():
        g(*map(ember.tensor, first))
        g(*map(ember.tensor, first))
        got = g(*map(ember.tensor, later))
        want = f(*map(ember.tensor, later))
    assert g.n_traces == 1
    got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("name", list(CASES))
def test_compiled_function_follows_new_inputs(name):
    f, a, b = CASES[name]
    assert_follows(f, a, b)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_compiled_embedding_and_nll_loss_read_new_index_inputs_of_any_integer_dtype(dtype):
    """Index arrays converted in Python before an op (an astype to int64) would be new arrays that the trace
    records as constants, replayed at every later call; the wrappers convert with traced casts instead."""
    emb = ember.nn.Embedding(10, 3)
    logp = ember.randn(4, 5).log_softmax(1)
    vec = ember.randn(5).log_softmax(0)

    def f(ids, target, one):
        if dtype == np.int32:  # (nll_loss takes int64 or uint8 targets, as torch)
            target, one = target.long(), one.long()
        return (emb(ids).sum(0), ember.nn.functional.nll_loss(logp, target),
                ember.nn.functional.nll_loss(vec, one))

    assert_follows(f, [np.array(v, dtype=dtype) for v in ([1, 2], [0, 1, 2, 3], [4])],
                   [np.array(v, dtype=dtype) for v in ([5, 9], [4, 3, 2, 1], [1])])


def test_ops_computed_from_input_values_follow_new_inputs_in_compiled_steps():
    """one_hot, isclose, where on a uint8 condition and attention's bool key-padding mask used to compute their
    results with NumPy outside any op: the trace kept the first call's result as a constant."""
    F = ember.nn.functional
    mha = ember.nn.MultiheadAttention(4, 1, batch_first=True)
    q = ember.randn(1, 3, 4)

    def f(y, a, b, cond, mask):
        return (F.one_hot(y, 4).float().sum(0), ember.isclose(a, b).float(),
                ember.where(cond, a, b), mha(q, q, q, key_padding_mask=mask)[0])

    first = (np.array([0, 1, 1]), np.array([1.0, 2.0], np.float32), np.array([1.0, 3.0], np.float32),
             np.array([1, 0], np.uint8), np.array([[False, False, True]]))
    later = (np.array([3, 3, 2]), np.array([1.0, 3.0], np.float32), np.array([1.0, 3.0], np.float32),
             np.array([0, 1], np.uint8), np.array([[True, False, False]]))
    assert_follows(f, first, later)


@pytest.mark.parametrize("read", [lambda y: ember.nn.functional.one_hot(y).sum(0),
                                  lambda y: ember.nonzero(y).sum(0),
                                  lambda y: y * 2 if ember.allclose(y.float(), y.float() * 0) else y])
def test_results_whose_shape_or_flow_depends_on_values_break_the_graph(read):
    g = ember.compile(read)
    a, b = ember.tensor(np.array([0, 1, 1])), ember.tensor(np.array([3, 0, 2]))
    with pytest.warns(RuntimeWarning, match="reads a tensor's value during tracing"):
        g(a)
    np.testing.assert_array_equal(g(b).numpy(), read(b).numpy())  # eager from then on


def test_index_fill_with_a_value_that_needs_its_gradient_breaks_the_graph():
    """Each filled position counts once in the value's gradient (np.unique: a size that depends on values)."""
    v = ember.tensor(2.0, requires_grad=True)
    g = ember.compile(lambda t, i: t.index_fill(1, i, v).sum())
    with pytest.warns(RuntimeWarning, match="index_fill"):
        g(ember.tensor(x), ember.tensor(np.array([0, 0, 2])))
    assert g._eager


mask_x = np.array([1.0, -1.0, 2.0, -3.0], np.float32)


@pytest.mark.parametrize("name, f, arg", [
    ("GetItem", lambda t: (t[t > 0] * 2).sum(), mask_x),
    ("GetItem", lambda t: t.masked_select(t > 0).sum(), mask_x),
    ("Unique", lambda t: ember.unique(t).sum(), np.array([1, 1, 2, 5])),
    ("pack_padded_sequence", lambda t: ember.nn.utils.rnn.pack_padded_sequence(
        ember.ones(2, 3, 1), t, batch_first=True, enforce_sorted=False).data.sum(), np.array([3, 1])),
])
def test_results_whose_shape_depends_on_values_break_the_graph(name, f, arg):
    """A boolean-mask selection, unique or a packing keeps as many elements as the values say: no static graph
    (before, a compiled step with a mask selecting another count crashed on a preallocated buffer's shape)."""
    g = ember.compile(f)
    with pytest.warns(RuntimeWarning, match=name):
        g(ember.tensor(arg))
    assert g._eager


@pytest.mark.parametrize("f, bad, exc, match", [
    (lambda t, i: ember.gather(t, 1, i[:, :2]), -1, RuntimeError, r"gather\(\): index -1 is out of bounds"),
    (lambda t, i: ember.scatter(t, 1, i[:, :2], 1.0), 7, RuntimeError, r"scatter\(\): index 7 is out of bounds"),
    (lambda t, i: ember.scatter_add(t, 1, i, t), -2, RuntimeError, r"scatter_add\(\): index -2 is out of bounds"),
    (lambda t, i: ember.index_select(t, 1, i[0]), -1, IndexError, r"index_select\(\): index out of range"),
    (lambda t, i: ember.take(t, i), 20, IndexError, r"take\(\): out of range: tried to access index 20"),
])
def test_compiled_steps_check_index_ranges_as_eager_mode_does(f, bad, exc, match):
    """The range checks run in an op (IndexInRange), so a compiled step refuses a bad index on any call
    (before: NumPy wrapped a negative one around, or raised its own IndexError)."""
    g = ember.compile(f)
    g(ember.tensor(x), ember.tensor(idx_a))
    g(ember.tensor(x), ember.tensor(idx_a))
    worse = idx_a.copy()
    worse[0, 0] = bad
    with pytest.raises(exc, match=match):
        f(ember.tensor(x), ember.tensor(worse))
    with pytest.raises(exc, match=match):
        g(ember.tensor(x), ember.tensor(worse))
    assert g.n_traces == 1


@pytest.mark.parametrize("f, bad, exc, match", [
    (lambda t, i: t.index_add(1, i[0], t), 5, IndexError, r"index_add\(\): index 5 is out of bounds"),
    (lambda t, i: t.index_fill(1, i[0, :2], 1.0), -6, IndexError, r"index_fill\(\): index -6 is out of bounds"),
    (lambda t, i: ember.take_along_dim(t, i, 1), 5, RuntimeError, r"take_along_dim\(\): index 5 is out of bounds"),
    (lambda t, i: ember.take_along_dim(t, i), -21, RuntimeError, r"take_along_dim\(\): index -21 is out of"),
    (lambda t, i: ember.index_select(t, 1, i[0, 0]), -1, IndexError, r"index_select\(\): index out of range"),
])
def test_compiled_steps_check_the_other_index_ranges_too(f, bad, exc, match):
    test_compiled_steps_check_index_ranges_as_eager_mode_does(f, bad, exc, match)

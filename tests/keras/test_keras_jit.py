"""model.compile(jit_compile=...) runs fit's batches as one compiled step with eager's exact numbers."""
import numpy as np
import pytest

import ember as tf


def fit(jit_compile, run_eagerly=False, optimizer="adam"):
    tf.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 6)).astype(np.float32)
    y = (x @ rng.standard_normal((6, 1)) + 0.1).astype(np.float32)
    model = tf.keras.Sequential([tf.keras.layers.Dense(16, activation="relu", input_shape=(6,)),
                                 tf.keras.layers.Dropout(0.1), tf.keras.layers.BatchNormalization(),
                                 tf.keras.layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"], jit_compile=jit_compile, run_eagerly=run_eagerly)
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0, shuffle=False)
    return model, history.history


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_jit_fit_equals_eager_fit(optimizer):
    m_jit, h_jit = fit(True, optimizer=optimizer)
    m_eager, h_eager = fit(False, optimizer=optimizer)
    assert m_jit._jit_step is not None and m_jit._jit_step.n_traces == 1 and not m_jit._jit_step._eager
    assert h_jit == h_eager
    for a, b in zip(m_jit.get_weights(), m_eager.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert m_jit.optimizer.iterations == m_eager.optimizer.iterations == 9


def test_jit_is_default_unless_run_eagerly():
    model, _ = fit(None)
    assert model.jit_compile and model._jit_step.n_traces == 1
    model, _ = fit(None, run_eagerly=True)
    assert not model.jit_compile and model._jit_step is None


def test_jit_compile_accepts_an_ember_compile_mode():
    m_ro, h_ro = fit("reduce-overhead")
    m_eager, h_eager = fit(False)
    step = m_ro._jit_step
    assert step.n_traces == 1 and not step._eager
    assert any(n.kind == "native" for n in step.graph.nodes)  # small arrays' ops as numba kernels
    for key in h_eager:
        np.testing.assert_allclose(h_ro[key], h_eager[key], rtol=1e-5, err_msg=key)
    for a, b in zip(m_ro.get_weights(), m_eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_jit_compile_auto_is_the_default_and_other_strings_are_rejected():
    model, _ = fit("auto")
    assert model.jit_compile and model._jit_step.n_traces == 1
    assert not any(n.kind == "native" for n in model._jit_step.graph.nodes)
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(2,))])
    with pytest.raises(ValueError, match="jit_compile should be .*reduce-overhead.*got 'fast'"):
        model.compile(optimizer="sgd", loss="mse", jit_compile="fast")

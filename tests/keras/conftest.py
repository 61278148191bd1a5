import pytest


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    """Automatic layer names start again from 'dense', 'dense_1' ... in every test."""
    from ember.keras import backend

    backend.clear_session()
    yield

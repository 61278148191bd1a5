"""ember.keras.layers: Keras layers as build/call shells over ember.nn.functional (channels-last)."""
from .base import Input, InputLayer, InputSpec, KerasTensor, Layer
from .conv import (AveragePooling1D, AveragePooling2D, Conv1D, Conv2D, GlobalAveragePooling1D,
                   GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D)
from .core import Activation, Dense, Dropout, Embedding, Flatten, Lambda, Permute, Reshape
from .merge import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, add, average, concatenate,
                    maximum, minimum, multiply, subtract)
from .normalization import BatchNormalization, LayerNormalization
from .recurrent import GRU, LSTM, SimpleRNN

# Keras's aliases
MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
Convolution1D, Convolution2D = Conv1D, Conv2D

__all__ = [n for n in dir() if not n.startswith("_") and n not in ("base", "conv", "core", "merge", "normalization",
                                                                   "recurrent")]


def serializable_classes():
    """Layer classes by name, for rebuilding models from configs (ember.keras classes only)."""
    return {cls.__name__: cls for cls in (
        InputLayer, Dense, Activation, Dropout, Flatten, Reshape, Permute, Embedding, Conv1D, Conv2D, MaxPooling1D,
        MaxPooling2D, AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
        GlobalMaxPooling1D, GlobalMaxPooling2D, BatchNormalization, LayerNormalization, SimpleRNN, LSTM, GRU,
        Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum)}

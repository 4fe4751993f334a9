"""The reference solution (instructor only: never in the student kit).

    from layers_lib.reference import Sequential, Linear, ReLU, LogSoftMax, NLLCriterion, sgd_momentum
"""
from ..contract import Criterion, Module
from .layers import BatchNormalization, Dropout, Linear, LogSoftMax, Scaling, Sequential, SoftMax
from .activations import ELU, LeakyReLU, ReLU, SoftPlus
from .criteria import NLLCriterion, NLLCriterionUnstable
from .conv import Conv2d, Flatten, MaxPool2d
from .optim import adam_optimizer, iterate_params, sgd_momentum

LAYER_CLASSES = ("Sequential", "Linear", "SoftMax", "LogSoftMax", "BatchNormalization", "Scaling",
                 "Dropout", "ReLU", "LeakyReLU", "ELU", "SoftPlus")
CRITERION_CLASSES = ("NLLCriterionUnstable", "NLLCriterion")
OPTIMIZERS = ("sgd_momentum", "adam_optimizer")
ADVANCED_CLASSES = ("Conv2d", "MaxPool2d", "Flatten")   # the optional advanced track

__all__ = ["Module", "Criterion", *LAYER_CLASSES, *CRITERION_CLASSES, *OPTIMIZERS, *ADVANCED_CLASSES,
           "iterate_params", "LAYER_CLASSES", "CRITERION_CLASSES", "OPTIMIZERS", "ADVANCED_CLASSES"]

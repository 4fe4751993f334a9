"""The library's own demo: build an MLP from layers_lib, train it a few epochs on the digits
bundled with scikit-learn, print the results.   python -m layers_lib.course.demo
"""
import time

import numpy as np

from layers_lib.reference import LogSoftMax, Linear, NLLCriterion, ReLU, Sequential, sgd_momentum
from layers_lib.data import load_digits_split
from layers_lib.training import accuracy, train


def main():
    np.random.seed(0)
    data = load_digits_split(seed=0)
    model = Sequential()
    for layer in (Linear(64, 64, dtype=np.float32), ReLU(), Linear(64, 10, dtype=np.float32), LogSoftMax()):
        model.add(layer)
    print(f"model:\n{model}")
    print(f"data: {len(data.X_train)} train / {len(data.X_val)} validation / {len(data.X_test)} test "
          f"digits, 8x8 pixels")
    start = time.perf_counter()
    history = train(model, NLLCriterion(), sgd_momentum, {"learning_rate": 0.05, "momentum": 0.9},
                    data.X_train, data.y_train, X_val=data.X_val, y_val=data.y_val, epochs=10,
                    batch_size=32, progress=False)
    elapsed = time.perf_counter() - start
    print("epoch  train loss  train acc  val acc")
    for epoch in range(history.epochs):
        print(f"{epoch + 1:5d}  {history.train_loss[epoch]:10.4f}  {history.train_acc[epoch]:9.3f}  "
              f"{history.val_acc[epoch]:7.3f}")
    print(f"test accuracy {accuracy(model, data.X_test, data.y_test):.3f} after {elapsed:.2f} s of training")


if __name__ == "__main__":
    main()

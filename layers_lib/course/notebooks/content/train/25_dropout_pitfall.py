dropout_model = dropout_models["p = 0.5"]
dropout_model.train()     # the mistake
first = dropout_model.forward(X_val).argmax(axis=1)
second = dropout_model.forward(X_val).argmax(axis=1)
print(f"training mode:   accuracy {np.mean(first == y_val):.3f} and {np.mean(second == y_val):.3f}")
print(f"                 the two passes disagree on {np.sum(first != second)} of {len(y_val)} images")
dropout_model.evaluate()  # the fix
predictions = dropout_model.forward(X_val).argmax(axis=1)
print(f"evaluation mode: accuracy {np.mean(predictions == y_val):.3f}")

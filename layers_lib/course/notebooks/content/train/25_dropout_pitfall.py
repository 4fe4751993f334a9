dropout_model = dropout_models["p = 0.5"]
%% en
dropout_model.train()     # the mistake
%% ru
dropout_model.train()     # ошибка
%% *
first = dropout_model.forward(X_val).argmax(axis=1)
second = dropout_model.forward(X_val).argmax(axis=1)
%% en
print(f"training mode:   accuracy {np.mean(first == y_val):.3f} and {np.mean(second == y_val):.3f}")
print(f"                 the two passes disagree on {np.sum(first != second)} of {len(y_val)} images")
dropout_model.evaluate()  # the fix
%% ru
print(f"режим обучения: точность {np.mean(first == y_val):.3f} и {np.mean(second == y_val):.3f}")
print(f"                два прохода расходятся на {np.sum(first != second)} из {len(y_val)} изображений")
dropout_model.evaluate()  # исправление
%% *
predictions = dropout_model.forward(X_val).argmax(axis=1)
%% en
print(f"evaluation mode: accuracy {np.mean(predictions == y_val):.3f}")
%% ru
print(f"режим оценки:   точность {np.mean(predictions == y_val):.3f}")

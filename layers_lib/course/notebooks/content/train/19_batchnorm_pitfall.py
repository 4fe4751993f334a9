import copy

%% en
bn_model = batchnorm_models["with batch norm"]
careless = copy.deepcopy(bn_model)  # a copy: training-mode passes also move the averages
careless.train()                    # the mistake: still in training mode
%% ru
bn_model = batchnorm_models["с батч-нормализацией"]
careless = copy.deepcopy(bn_model)  # копия: проходы в режиме обучения тоже сдвигают средние
careless.train()                    # ошибка: модель всё ещё в режиме обучения
%% *
one_at_a_time = [int(careless.forward(X_val[i:i + 1]).argmax()) for i in range(15)]
%% en
bn_model.evaluate()                 # the right way
print("training mode, one image per batch:", one_at_a_time)
print("evaluation mode:                   ", bn_model.forward(X_val[:15]).argmax(axis=1).tolist())
print("true labels:                       ", y_val[:15].tolist())
%% ru
bn_model.evaluate()                 # как правильно
print("режим обучения, одно изображение в батче:", one_at_a_time)
print("режим оценки:                            ", bn_model.forward(X_val[:15]).argmax(axis=1).tolist())
print("истинные метки:                          ", y_val[:15].tolist())

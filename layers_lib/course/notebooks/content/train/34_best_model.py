%% en
# Your best model, as a recipe written with literal values (numbers, strings, tuples, dicts).
# The grader reads BEST_RECIPE from this cell without running it, re-trains it from your
# classes and measures it on held-back images (see the rules above).
%% ru
# Ваша лучшая модель — рецепт, записанный литеральными значениями (числа, строки, кортежи, словари).
# Система проверки читает BEST_RECIPE из этой ячейки, не выполняя её, заново обучает его на ваших
# классах и измеряет на отложенных изображениях (см. правила выше).
%% *
### BEGIN SOLUTION
# from train_cells: BEST_RECIPE
### END SOLUTION
best_model, best_history = train_recipe(BEST_RECIPE, seed=0)

# Build and train your best model here. Define two names:
#   best_model   - the trained model, built from your classes (make_mlp or Sequential)
#   best_history - the History returned by train(...)
### BEGIN SOLUTION
# from train_cells: train_best_model


best_model, best_history = train_best_model(seed=0)
### END SOLUTION

# Build and train your best model here. Define two names:
#   best_model   - the trained model, built from your classes (make_mlp or Sequential)
#   best_history - the History returned by train(...)
### BEGIN SOLUTION
np.random.seed(0)  # reproducible initial weights and dropout masks
best_model = make_mlp(ReLU, dropout=0.3, hidden=(256,))
best_history = train(best_model, NLLCriterion(), adam_optimizer, ADAM_CONFIG, X_train, y_train,
                     epochs=40, batch_size=32, X_val=X_val, y_val=y_val, seed=0, progress=False)
### END SOLUTION

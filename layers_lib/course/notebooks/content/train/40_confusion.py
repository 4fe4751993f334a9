test_predictions = predict(best_model, X_test)
print(f"test accuracy: {np.mean(test_predictions == y_test):.4f}")
plot_confusion_matrix(confusion_matrix(y_test, test_predictions, n_classes=10))

test_predictions = predict(best_model, X_test)
%% en
print(f"test accuracy: {np.mean(test_predictions == y_test):.4f}")
%% ru
print(f"точность на тесте: {np.mean(test_predictions == y_test):.4f}")
%% *
plot_confusion_matrix(confusion_matrix(y_test, test_predictions, n_classes=10))

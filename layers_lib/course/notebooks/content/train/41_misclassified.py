plot_misclassified(digits.standardizer.inverse_transform(X_test), y_test, test_predictions,
                   image_shape=(8, 8), n=16)

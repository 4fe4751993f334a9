plot_confusion_matrix(confusion_matrix(mnist.y_test, mnist_predictions, n_classes=10))
plot_misclassified(mnist.X_test, mnist.y_test, mnist_predictions, image_shape=(28, 28), n=16)

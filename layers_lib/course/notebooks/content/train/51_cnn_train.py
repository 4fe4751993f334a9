np.random.seed(0)
cnn = make_cnn()
cnn_history = train_on_mnist(cnn, **MNIST_CNN, images=True)
cnn_predictions = predict(cnn, mnist.X_test.reshape(-1, 1, 28, 28))
%% en
print(f"CNN, test accuracy on MNIST: {np.mean(cnn_predictions == mnist.y_test):.4f}")
%% ru
print(f"CNN, точность на тесте MNIST: {np.mean(cnn_predictions == mnist.y_test):.4f}")

np.random.seed(0)
mnist_mlp = make_mlp(ReLU, batch_norm=True, hidden=(256,), n_in=784)
mnist_history = train_on_mnist(mnist_mlp, **MNIST_MLP)
mnist_predictions = predict(mnist_mlp, mnist.X_test)
%% en
print(f"MLP, test accuracy on MNIST: {np.mean(mnist_predictions == mnist.y_test):.4f}")
%% ru
print(f"MLP, точность на тесте MNIST: {np.mean(mnist_predictions == mnist.y_test):.4f}")

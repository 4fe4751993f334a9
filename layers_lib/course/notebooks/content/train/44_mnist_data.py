from layers_lib.data import load_mnist_split
from layers_lib.plots import live_history
from layers_lib.training import cast_parameters

# from train_cells: MNIST_MLP, MNIST_CNN, train_on_mnist

mnist = load_mnist_split()
print(mnist)

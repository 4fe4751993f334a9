fig = NotebookFigure(figsize=(12, 2.4), layout="constrained")
for ax, image, label in zip(fig.subplots(2, 12).ravel(), mnist.X_train, mnist.y_train):
    ax.imshow(image.reshape(28, 28), cmap="gray_r")
    ax.set_title(str(label))
    ax.axis("off")
fig

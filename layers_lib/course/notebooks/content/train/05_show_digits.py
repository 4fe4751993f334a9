%% en
pixels = digits.standardizer.inverse_transform(X_train[:24])   # back to intensities 0..16
%% ru
pixels = digits.standardizer.inverse_transform(X_train[:24])   # обратно к яркостям 0..16
%% *
fig = NotebookFigure(figsize=(12, 2.4), layout="constrained")
for ax, image, label in zip(fig.subplots(2, 12).ravel(), pixels, y_train):
    ax.imshow(image.reshape(8, 8), cmap="gray_r")
    ax.set_title(str(label))
    ax.axis("off")
fig

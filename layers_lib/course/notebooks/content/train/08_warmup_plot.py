fig = NotebookFigure(figsize=(10, 4.5), layout="constrained")
for ax, model, title in zip(fig.subplots(1, 2), [linear_model, tiny_mlp],
                            ["Linear(2, 3)", "Linear(2, 32), ReLU, Linear(32, 3)"]):
    plot_decision_boundary(model, X_spiral, y_spiral, ax=ax)
%% en
    ax.set_title(f"{title}: accuracy {accuracy(model, X_spiral, y_spiral):.2f}")
%% ru
    ax.set_title(f"{title}: точность {accuracy(model, X_spiral, y_spiral):.2f}")
%% *
fig

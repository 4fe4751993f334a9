print(best_history.summary())
plot_history(best_history)

# from train_cells: ADVANCED_NEEDED, make_cnn

cnn_classes, cnn_reasons = load_classes(find_modules_notebook(), ADVANCED_NEEDED)
%% en
globals().update(cnn_classes)  # bind Conv2d, MaxPool2d, Flatten
%% ru
globals().update(cnn_classes)  # связывает имена Conv2d, MaxPool2d, Flatten
%% *
print_loaded(cnn_reasons)

digits = load_digits_split(dtype=np.float64)
X_train, y_train = digits.X_train, digits.y_train
X_val, y_val = digits.X_val, digits.y_val
X_test, y_test = digits.X_test, digits.y_test
print(digits)
%% en
print("training images per class:", np.bincount(y_train).tolist())
%% ru
print("обучающих изображений в каждом классе:", np.bincount(y_train).tolist())

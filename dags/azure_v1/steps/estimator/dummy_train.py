import argparse
import os
import pickle

from azureml.core import Run
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser("train")
parser.add_argument("--output", type=str, help="output directory")
parser.add_argument("--penalty", type=float, default=1.0, help="inverse of regularization strength")
args = parser.parse_args()

run = Run.get_context()
iris = run.input_datasets["iris"].to_pandas_dataframe()
features, labels = iris.drop(columns="target"), iris["target"]
x_train, x_test, y_train, y_test = train_test_split(features, labels, test_size=0.3, random_state=0)
model = LogisticRegression(C=args.penalty, max_iter=500).fit(x_train, y_train)
accuracy = model.score(x_test, y_test)
print(f"Accuracy: {accuracy:.3f}")
run.log("accuracy", accuracy)

os.makedirs(args.output, exist_ok=True)
with open(os.path.join(args.output, "model.pkl"), "wb") as f:
    pickle.dump(model, f)

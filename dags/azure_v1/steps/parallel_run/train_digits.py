import argparse
import os
import pickle

from azureml.core import Run
from sklearn.linear_model import LogisticRegression

parser = argparse.ArgumentParser("train_digits")
parser.add_argument("--model", type=str)
args = parser.parse_args()

run = Run.get_context()
digits = run.input_datasets["digits_train"].to_pandas_dataframe()
model = LogisticRegression(max_iter=2000).fit(digits.drop(columns="target"), digits["target"])
run.log("train_accuracy", model.score(digits.drop(columns="target"), digits["target"]))
os.makedirs(args.model, exist_ok=True)
with open(os.path.join(args.model, "digits.pkl"), "wb") as f:
    pickle.dump(model, f)

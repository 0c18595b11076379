import argparse
import os
import pickle

from azureml.core import Run
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_absolute_error

parser = argparse.ArgumentParser("train")
parser.add_argument("--train", type=str, help="train data")
parser.add_argument("--test", type=str, help="test data")
parser.add_argument("--model", type=str, help="model output")
args = parser.parse_args()

run = Run.get_context()
train = run.input_datasets["output_split_train"].to_pandas_dataframe()
test = run.input_datasets["output_split_test"].to_pandas_dataframe()
features = [column for column in train.columns if column != "cost"]
model = LinearRegression().fit(train[features], train["cost"])
mae = mean_absolute_error(test["cost"], model.predict(test[features]))
print(f"mean absolute error of the fare: {mae:.2f}")
run.log("mean_absolute_error", mae)

os.makedirs(args.model, exist_ok=True)
with open(os.path.join(args.model, "model.pkl"), "wb") as f:
    pickle.dump(model, f)
run.upload_file("outputs/model.pkl", os.path.join(args.model, "model.pkl"))

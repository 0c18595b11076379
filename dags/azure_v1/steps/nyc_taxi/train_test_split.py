import argparse
import os

from azureml.core import Run
from sklearn.model_selection import train_test_split

print("Split the data into train and test")

parser = argparse.ArgumentParser("split")
parser.add_argument("--output_split_train", type=str, help="output split train data")
parser.add_argument("--output_split_test", type=str, help="output split test data")
args = parser.parse_args()

run = Run.get_context()
df = run.input_datasets["transformed_data"].to_pandas_dataframe()
train, test = train_test_split(df, test_size=0.2, random_state=223)

for folder, part in ((args.output_split_train, train), (args.output_split_test, test)):
    os.makedirs(folder, exist_ok=True)
    part.to_csv(os.path.join(folder, "data.csv"), index=False)
run.log_row("split", train=len(train), test=len(test))

import argparse
import json
import os

from azureml.core import Run

print("Cleans the input data")

parser = argparse.ArgumentParser("cleanse")
parser.add_argument("--output_cleanse", type=str, help="cleaned taxi data directory")
parser.add_argument("--useful_columns", type=str, help="useful columns to keep")
parser.add_argument("--columns", type=str, help="rename column pattern")
args = parser.parse_args()

useful_columns = [s.strip().strip("'") for s in args.useful_columns.strip("[]").split(";")]
columns = json.loads(args.columns.replace(";", ","))

run = Run.get_context()
raw_data = run.input_datasets["raw_data"].to_pandas_dataframe()

new_df = raw_data.rename(columns=columns)
new_df["store_forward"] = "N"
new_df = new_df[(new_df["distance"] > 0) & (new_df["cost"] > 0)]
new_df = new_df[useful_columns].reset_index(drop=True)
run.log("rows", len(new_df))

os.makedirs(args.output_cleanse, exist_ok=True)
new_df.to_csv(os.path.join(args.output_cleanse, "cleaned.csv"), index=False)

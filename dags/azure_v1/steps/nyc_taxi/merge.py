import argparse
import os

import pandas as pd
from azureml.core import Run

print("Merge Green and Yellow taxi data")

parser = argparse.ArgumentParser("merge")
parser.add_argument("--output_merge", type=str, help="green and yellow taxi data merged")
args = parser.parse_args()

run = Run.get_context()
green_df = run.input_datasets["cleansed_green_data"].to_pandas_dataframe()
yellow_df = run.input_datasets["cleansed_yellow_data"].to_pandas_dataframe()
merged_df = pd.concat([green_df, yellow_df], ignore_index=True)
run.log("rows", len(merged_df))

os.makedirs(args.output_merge, exist_ok=True)
merged_df.to_csv(os.path.join(args.output_merge, "merged.csv"), index=False)

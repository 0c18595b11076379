import argparse
import os

from azureml.core import Run

print("Transforms the renamed taxi data to the required format")

parser = argparse.ArgumentParser("transform")
parser.add_argument("--output_transform", type=str, help="transformed taxi data")
args = parser.parse_args()

run = Run.get_context()
df = run.input_datasets["normalized_data"].to_pandas_dataframe()
df = df.drop(columns=["store_forward", "pickup_minute"])
df = df[(df["cost"] < 100) & (df["trip_minutes"] > 0)].reset_index(drop=True)
run.log("rows", len(df))

os.makedirs(args.output_transform, exist_ok=True)
df.to_csv(os.path.join(args.output_transform, "transformed.csv"), index=False)

import argparse
import os

from azureml.core import Run

print("Filters out coordinates for locations that are outside the city border.")

parser = argparse.ArgumentParser("filter")
parser.add_argument("--output_filter", type=str, help="filter out out of city locations")
args = parser.parse_args()

run = Run.get_context()
df = run.input_datasets["merged_data"].to_pandas_dataframe()
in_city = (
    df["pickup_longitude"].between(-74.09, -73.72)
    & df["pickup_latitude"].between(40.53, 40.88)
    & df["dropoff_longitude"].between(-74.09, -73.72)
    & df["dropoff_latitude"].between(40.53, 40.88)
)
df = df[in_city & df["passengers"].between(1, 8)].reset_index(drop=True)
run.log("rows", len(df))

os.makedirs(args.output_filter, exist_ok=True)
df.to_csv(os.path.join(args.output_filter, "filtered.csv"), index=False)

import argparse
import os

import pandas as pd
from azureml.core import Run

print("Replace undefined values to relevant values and rename columns to meaningful names")

parser = argparse.ArgumentParser("normalize")
parser.add_argument("--output_normalize", type=str, help="replaced undefined values and renamed columns")
args = parser.parse_args()

run = Run.get_context()
df = run.input_datasets["filtered_data"].to_pandas_dataframe()
pickup = pd.to_datetime(df.pop("pickup_datetime"))
dropoff = pd.to_datetime(df.pop("dropoff_datetime"))
df["pickup_weekday"] = pickup.dt.weekday
df["pickup_hour"] = pickup.dt.hour
df["pickup_minute"] = pickup.dt.minute
df["trip_minutes"] = ((dropoff - pickup).dt.total_seconds() / 60).round(2)

os.makedirs(args.output_normalize, exist_ok=True)
df.to_csv(os.path.join(args.output_normalize, "normalized.csv"), index=False)

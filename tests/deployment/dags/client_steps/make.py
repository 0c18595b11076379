import argparse
import os
import time

import mlflow

parser = argparse.ArgumentParser()
parser.add_argument("--greeting")
parser.add_argument("--seconds", type=float)
parser.add_argument("--out")
args = parser.parse_args()
time.sleep(args.seconds)
os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "greeting.txt"), "w") as handle:
    handle.write(args.greeting)
with mlflow.start_run():
    mlflow.log_metric("letters", len(args.greeting))

"""Write the small data the ported Azure ML v1 samples read (``data/``, shipped in the repository).

Every file is derived from scikit-learn's bundled datasets or a fixed random seed, so
running this again writes the same bytes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits, load_iris

HERE = os.path.dirname(os.path.abspath(__file__))


def _taxi(kind: str, rows: int, seed: int) -> pd.DataFrame:
    """Trips shaped like the NYC taxi open data the v1 sample reads (green and yellow cabs)."""
    rng = np.random.RandomState(seed)
    pickup = pd.Timestamp("2016-01-01") + pd.to_timedelta(rng.randint(0, 31 * 24 * 3600, rows), unit="s")
    minutes = rng.gamma(2.0, 7.0, rows).round(1)
    distance = (minutes * rng.uniform(0.15, 0.35, rows)).round(2)
    fare = (2.5 + 2.1 * distance + 0.3 * minutes + rng.normal(0, 1.5, rows)).round(2)
    prefix = "lpep" if kind == "green" else "tpep"
    frame = pd.DataFrame(
        {
            "vendorID": rng.randint(1, 3, rows),
            f"{prefix}PickupDatetime": pickup.strftime("%Y-%m-%d %H:%M:%S"),
            f"{prefix}DropoffDatetime": (pickup + pd.to_timedelta(minutes, unit="m")).strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "passengerCount": rng.randint(1, 6, rows),
            "tripDistance": distance,
            "pickupLongitude": (-73.98 + rng.normal(0, 0.03, rows)).round(5),
            "pickupLatitude": (40.75 + rng.normal(0, 0.03, rows)).round(5),
            "dropoffLongitude": (-73.97 + rng.normal(0, 0.04, rows)).round(5),
            "dropoffLatitude": (40.74 + rng.normal(0, 0.04, rows)).round(5),
            "totalAmount": fare,
        }
    )
    frame.loc[rng.choice(rows, 6, replace=False), "tripDistance"] = 0.0  # trips the cleansing drops
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", default=os.path.join(HERE, "data"), help="output folder")
    args = parser.parse_args(argv)
    out = args.output

    def path(*parts: str) -> str:
        target = os.path.join(out, *parts)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        return target

    shutil.copyfile(
        os.path.join(HERE, "..", "data_dependency", "data", "20news.txt"), path("news", "20news.txt")
    )
    load_iris(as_frame=True).frame.to_csv(path("iris", "iris.csv"), index=False)
    _taxi("green", 160, 1).to_csv(path("taxi", "green", "green_tripdata.csv"), index=False)
    _taxi("yellow", 160, 2).to_csv(path("taxi", "yellow", "yellow_tripdata.csv"), index=False)
    digits = load_digits(as_frame=True).frame
    digits.iloc[:400].to_csv(path("digits", "train", "digits.csv"), index=False)
    for number, (_, row) in enumerate(digits.iloc[1000:1030].iterrows()):
        pixels = ",".join(str(int(value)) for value in row.drop("target"))
        with open(path("digits", "batch", f"digit_{number:02d}.csv"), "w", encoding="utf-8") as handle:
            handle.write(pixels + "\n")
    for folder, words in (("sample_datapath1", "alpha beta"), ("sample_datapath2", "gamma delta epsilon")):
        for index, word in enumerate(words.split()):
            with open(path("datapaths", folder, f"{index}.txt"), "w", encoding="utf-8") as handle:
                handle.write(f"{word}\n")
    rng = np.random.RandomState(3)
    for part in (1, 2):
        pd.DataFrame({"day": range(part * 10, part * 10 + 10), "sales": rng.randint(50, 150, 10)}).to_csv(
            path("transfer", "exports", f"part-{part}.csv"), index=False
        )
    pd.DataFrame({"store": ["north", "south"], "opened": ["2019-04-01", "2020-09-15"]}).to_csv(
        path("transfer", "stores.csv"), index=False
    )
    print(f"wrote the samples' data to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

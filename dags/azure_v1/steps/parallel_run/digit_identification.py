import argparse
import os
import pickle

import numpy as np


def init():
    global model
    parser = argparse.ArgumentParser("digit_identification")
    parser.add_argument("--model", type=str)
    args, _ = parser.parse_known_args()
    with open(os.path.join(args.model, "digits.pkl"), "rb") as f:
        model = pickle.load(f)


def run(mini_batch):
    result = []
    for image_path in mini_batch:
        pixels = np.loadtxt(image_path, delimiter=",").reshape(1, -1)
        label = model.predict(pixels)[0]
        result.append(f"{os.path.basename(image_path)}: {label}")
    return result

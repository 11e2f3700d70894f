"""Load the project's vector files (vectors/*.json). Tests read nothing outside this repository."""

import json
import os

VECTORS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "vectors")


def load(name: str):
    with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
        data = json.load(f)
    assert data.get("source"), "%s must name its source" % name
    return data

"""Human Protein Atlas, Kaggle layout: ``<image_dir>/<Id>_{red,green,blue,yellow}.png`` + ``train.csv``.

``Target`` holds space-separated label indices (multi-label). The manifest keeps it as
``Metadata_Target`` and adds ``Metadata_Labels``, the label names joined with ``|``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cell_dino.data import manifest as mf
from cell_dino.data.channels import ChannelSpec
from cell_dino.data.errors import ManifestError
from cell_dino.data.tables import read_csv_any_newline, require_columns, require_rows

COLOURS = {"Microtubules": "red", "Protein": "green", "Nucleus": "blue", "ER": "yellow"}
CHANNELS = ChannelSpec(tuple(COLOURS))
LABEL_SEPARATOR = "|"
LABEL_NAMES = (
    "Nucleoplasm", "Nuclear membrane", "Nucleoli", "Nucleoli fibrillar center", "Nuclear speckles",
    "Nuclear bodies", "Endoplasmic reticulum", "Golgi apparatus", "Peroxisomes", "Endosomes",
    "Lysosomes", "Intermediate filaments", "Actin filaments", "Focal adhesion sites", "Microtubules",
    "Microtubule ends", "Cytokinetic bridge", "Mitotic spindle", "Microtubule organizing center",
    "Centrosome", "Lipid droplets", "Plasma membrane", "Cell junctions", "Mitochondria",
    "Aggresome", "Cytosol", "Cytoplasmic bodies", "Rods & rings",
)


def parse_target(target: str, row: int, source: Path) -> str:
    """``"16 0"`` -> ``"Cytokinetic bridge|Nucleoplasm"``; bad indices name the row."""
    names = []
    for token in str(target).split():
        if not token.isdigit() or int(token) >= len(LABEL_NAMES):
            raise ManifestError(f"{source}: row {row}: invalid Target label {token!r} in {target!r}")
        names.append(LABEL_NAMES[int(token)])
    if not names:
        raise ManifestError(f"{source}: row {row}: empty Target")
    return LABEL_SEPARATOR.join(names)


def read_hpa(root: Path, labels_table: str = "train.csv", image_dir: str = "train", extension: str = "png") -> pd.DataFrame:
    """Read a Kaggle HPA tree into an FOV manifest (one row per image Id)."""
    table_path = root / labels_table
    table = read_csv_any_newline(table_path)
    require_rows(table, table_path)
    require_columns(table, ["Id", "Target"], table_path)
    ids = table["Id"].astype(str)
    manifest = pd.DataFrame(
        {
            mf.FOV_KEY: ids,
            "Metadata_ImageID": ids,
            "Metadata_Target": table["Target"].astype(str),
            "Metadata_Labels": [parse_target(t, i, table_path) for i, t in enumerate(table["Target"])],
        }
    )
    for channel, colour in COLOURS.items():
        manifest[mf.file_column(channel)] = ids + f"_{colour}.{extension}"
        manifest[mf.path_column(channel)] = str(root / image_dir)
    return manifest

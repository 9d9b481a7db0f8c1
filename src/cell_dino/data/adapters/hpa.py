"""Human Protein Atlas layouts: a label table and ``<image_dir>/<id>_{red,green,blue,yellow}.<ext>``.

The table's header says which release it is:

* ``Id,Target``: the Kaggle 2018 "Human Protein Atlas Image Classification" ``train.csv`` and the
  HPA v18 website table in the same encoding (``HPAv18RBGY_wodpl.csv``): space-separated, unsorted
  indices into the 28 classes of :data:`CLASSES_2018`.
* ``ID,Label``: the Kaggle 2021 "HPA Single-Cell Image Classification" ``train.csv``:
  ``|``-separated indices into the 19 classes of :data:`CLASSES_2021`; its square images of 2048,
  3072 or 4096 px are brought to one size at ingest (``preprocess.resize_to``).

Channels are red microtubules, green the protein of interest, blue the nucleus, yellow the ER,
ingested in that order. Labels are image-level and multi-label (cells inherit their image's).
Website ids ``{antibody}_{plate}_{well}_{field}`` (a few carry a fifth ``_cr...`` part) give the
antibody, plate, well and site; Kaggle UUIDs carry none of them (left empty). An optional
annotation table adds the cell line and gene per image.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from cell_dino.data import manifest as mf
from cell_dino.data.channels import ChannelSpec
from cell_dino.data.errors import ManifestError
from cell_dino.data.tables import read_csv_any_newline, require_rows

log = logging.getLogger(__name__)
COLOURS = {"Microtubules": "red", "Protein": "green", "Nucleus": "blue", "ER": "yellow"}
CHANNELS = ChannelSpec(tuple(COLOURS))
LABEL_SEPARATOR = "|"
ANTIBODY, CELL_LINE, GENE = "Metadata_Antibody", "Metadata_CellLine", "Metadata_Gene"
LABELS, LOCATION = "Metadata_Labels", "Metadata_Location"
CLASSES_2018 = (
    "Nucleoplasm", "Nuclear membrane", "Nucleoli", "Nucleoli fibrillar center", "Nuclear speckles",
    "Nuclear bodies", "Endoplasmic reticulum", "Golgi apparatus", "Peroxisomes", "Endosomes",
    "Lysosomes", "Intermediate filaments", "Actin filaments", "Focal adhesion sites", "Microtubules",
    "Microtubule ends", "Cytokinetic bridge", "Mitotic spindle", "Microtubule organizing center",
    "Centrosome", "Lipid droplets", "Plasma membrane", "Cell junctions", "Mitochondria",
    "Aggresome", "Cytosol", "Cytoplasmic bodies", "Rods & rings",
)  # fmt: skip
CLASSES_2021 = (
    "Nucleoplasm", "Nuclear membrane", "Nucleoli", "Nucleoli fibrillar center", "Nuclear speckles",
    "Nuclear bodies", "Endoplasmic reticulum", "Golgi apparatus", "Intermediate filaments",
    "Actin filaments", "Microtubules", "Mitotic spindle", "Centrosome", "Plasma membrane",
    "Mitochondria", "Aggresome", "Cytosol", "Vesicles and punctate cytosolic patterns", "Negative",
)  # fmt: skip
# header -> (id column, label column, separator, class names)
RELEASES = {
    ("Id", "Target"): ("Id", "Target", None, CLASSES_2018),
    ("ID", "Label"): ("ID", "Label", LABEL_SEPARATOR, CLASSES_2021),
}
ANNOTATIONS = {"Cellline": CELL_LINE, "Gene": GENE}  # annotation-table column -> manifest column


def parse_labels(target: str, separator: str | None, classes: tuple[str, ...], row: int, source: Path) -> list[str]:
    """``"16 0"`` -> ``["Nucleoplasm", "Cytokinetic bridge"]`` (class-index order, each once);
    an index outside ``classes`` or an empty target names the row."""
    if pd.isna(target) or not str(target).strip():
        raise ManifestError(f"{source}: row {row}: empty label")
    indices = set()
    for token in str(target).split(separator):
        token = token.strip()
        if not token.isdigit() or int(token) >= len(classes):
            raise ManifestError(f"{source}: row {row}: invalid label {token!r} in {target!r} (classes 0-{len(classes) - 1})")
        indices.add(int(token))
    return [classes[i] for i in sorted(indices)]


def website_parts(ids: pd.Series) -> pd.DataFrame:
    """Antibody, plate, well and site of HPA website ids (``10580_1610_C1_1``, ``63683_si35_H1_11``; a fifth ``_cr...``
    part allowed); empty for other ids (Kaggle UUIDs)."""
    parts = ids.str.extract(r"^(\d+)_([^_]+)_([A-Z]+\d+)_(\d+)(?:_\w+)?$")  # plates: 1610, or si35 (siRNA)
    parts.columns = [ANTIBODY, mf.PLATE, mf.WELL, mf.SITE]
    return parts.astype({mf.SITE: "Int64"})


def read_annotations(path: Path) -> pd.DataFrame:
    """An annotation table (``ID`` or ``Id``; ``Cellline`` and / or ``Gene``) indexed by image id."""
    table = read_csv_any_newline(path)
    key = next((c for c in ("ID", "Id") if c in table.columns), None)
    if key is None or not set(ANNOTATIONS) & set(table.columns):
        raise ManifestError(f"{path}: an annotation table needs an ID (or Id) column and Cellline and / or Gene; has {list(table.columns)}")
    duplicated = table[key].duplicated()
    if duplicated.any():
        raise ManifestError(f"{path}: row {int(duplicated.to_numpy().nonzero()[0][0])}: image {table[key][duplicated].iloc[0]!r} annotated twice")
    return table.set_index(key)[[c for c in ANNOTATIONS if c in table.columns]].rename(columns=ANNOTATIONS)


def read_hpa(
    root: Path,
    labels_table: str = "train.csv",
    image_dir: str = "train",
    extension: str = "png",
    annotations: str | None = None,
) -> pd.DataFrame:
    """Read an HPA tree into an FOV manifest, one row per image.

    Columns: ``Metadata_FOV`` and ``Metadata_ImageID`` (the id), ``Metadata_Target`` (the table's
    labels as written), ``Metadata_Labels`` (class names in class-index order joined by ``|``),
    ``Metadata_Location`` (the one class of a single-label image; empty for multi-label ones: what
    DINO4Cells fits its UMAP on and what single-label evaluations read), ``Metadata_Antibody``,
    ``Metadata_Plate``, ``Metadata_Well``, ``Metadata_Site`` (website ids), ``Metadata_CellLine``
    and ``Metadata_Gene`` (from ``annotations``, a path relative to ``root``), and the four channels'
    file columns. Raises :class:`ManifestError` naming the table and row of a bad label, or the
    table's columns when it is neither release.
    """
    table_path = root / labels_table
    table = read_csv_any_newline(table_path)
    require_rows(table, table_path)
    release = next((spec for header, spec in RELEASES.items() if set(header) <= set(table.columns)), None)
    if release is None:
        raise ManifestError(f"{table_path}: neither Kaggle 2018's Id,Target nor 2021's ID,Label columns; columns present: {list(table.columns)}")
    id_column, label_column, separator, classes = release
    ids = table[id_column].astype(str)
    labels = [parse_labels(t, separator, classes, i, table_path) for i, t in enumerate(table[label_column])]
    manifest = pd.DataFrame(
        {
            mf.FOV_KEY: ids,
            "Metadata_ImageID": ids,
            "Metadata_Target": table[label_column].astype(str),
            LABELS: [LABEL_SEPARATOR.join(names) for names in labels],
            LOCATION: pd.array([names[0] if len(names) == 1 else None for names in labels], dtype="string"),
        }
    )
    manifest = pd.concat([manifest, website_parts(ids)], axis=1)
    if annotations is not None:
        table = read_annotations(root / annotations)
        manifest = manifest.join(table, on="Metadata_ImageID")
        unmatched = ~manifest["Metadata_ImageID"].isin(table.index)
        if unmatched.all():
            raise ManifestError(f"{root / annotations}: no id of the annotation table is among {table_path}'s (first: {manifest['Metadata_ImageID'].iloc[0]!r})")
        if unmatched.any():
            log.warning("%s: %d of %d images are not annotated (no cell line or gene)", root / annotations, unmatched.sum(), len(manifest))
    for channel, colour in COLOURS.items():
        manifest[mf.file_column(channel)] = ids + f"_{colour}.{extension}"
        manifest[mf.path_column(channel)] = str(root / image_dir)
    return manifest

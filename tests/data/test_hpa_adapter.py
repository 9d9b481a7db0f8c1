"""The HPA adapter on the real label tables (Kaggle 2018, HPA v18 website ids) and on small trees
of real ids with synthetic pixels (Kaggle 2018 and the 2021 single-cell release)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from cell_dino.data import manifest as mf
from cell_dino.data.adapters.hpa import CHANNELS, CLASSES_2018, CLASSES_2021, read_hpa
from cell_dino.data.errors import ManifestError
from cell_dino.data.readers import read_fov
from cell_dino.ingest.preprocessing_job import PreprocessConfig, PreprocessingJob
from tests.projects import SHARED_DATA

REAL = SHARED_DATA / "hpa"
IDS = ["00070df0-bbc3-11e8-b2bc-ac1f6b6435d0", "000a6c98-bb9b-11e8-b2b9-ac1f6b6435d0"]
# LAYOUT.md: images per class in the Kaggle 2018 training table
KAGGLE_2018_COUNTS = {0: 12885, 1: 1254, 8: 53, 15: 21, 25: 8228, 27: 11}


def make_hpa(root: Path, header: str, rows: list[tuple[str, str]], sizes: list[int] | None = None) -> Path:
    """``train.csv`` and one 8-bit PNG per channel of each row (value 10 * row + channel, a bright corner)."""
    (root / "train").mkdir(parents=True)
    (root / "train.csv").write_text(header + "\n" + "".join(f"{i},{t}\n" for i, t in rows))
    for k, (image_id, _) in enumerate(rows):
        side = sizes[k] if sizes else 16
        for c, colour in enumerate(("red", "green", "blue", "yellow")):
            pixels = np.full((side, side), 10 * k + c, np.uint8)
            pixels[side // 2 :, side // 2 :] += 100  # not blank
            Image.fromarray(pixels).save(root / "train" / f"{image_id}_{colour}.png")
    return root


def test_kaggle_2018_image_counts_per_class_match_the_real_table() -> None:
    """31,072 images; the per-class counts of LAYOUT.md (space-separated, unsorted labels)."""
    table = pd.read_csv(REAL / "kaggle2018_train.csv", dtype=str)
    root = REAL.parent / "hpa"
    manifest = read_hpa(root, labels_table="kaggle2018_train.csv")
    assert len(manifest) == len(table) == 31072
    counts = manifest["Metadata_Labels"].str.split("|").explode().value_counts()
    for index, count in KAGGLE_2018_COUNTS.items():
        assert counts[CLASSES_2018[index]] == count
    assert manifest["Metadata_Location"].notna().sum() == 15126  # single-label images (LAYOUT.md)
    assert manifest["Metadata_Antibody"].isna().all()  # UUIDs carry no antibody, plate or well


def test_website_ids_give_antibody_plate_well_and_site() -> None:
    """HPA v18 ids ``{antibody}_{plate}_{well}_{field}``, 1,406 of them with a fifth ``_cr...`` part."""
    manifest = read_hpa(REAL, labels_table="hpa_v18_external_train.csv")
    assert len(manifest) == 74606
    first = manifest.iloc[0]
    assert (first["Metadata_Antibody"], first["Metadata_Plate"], first["Metadata_Well"], first["Metadata_Site"]) == ("10580", "1610", "C1", 1)
    assert first["Metadata_Labels"] == "Nucleoplasm|Nucleoli|Focal adhesion sites|Plasma membrane|Cytosol"  # "13 25 0 2 21": 0, 2, 13, 21, 25
    assert manifest["Metadata_Antibody"].notna().all() and manifest["Metadata_Site"].notna().all()
    assert manifest["Metadata_FOV"].str.count("_").eq(4).sum() == 1406


def test_kaggle_2018_tree_is_multi_label_and_reads_four_channels_in_dino4cells_order(tmp_path: Path) -> None:
    manifest = read_hpa(make_hpa(tmp_path, "Id,Target", [(IDS[0], "16 0"), (IDS[1], "7")]))
    assert mf.channels_of(manifest) == CHANNELS
    assert manifest["Metadata_Labels"].tolist() == ["Nucleoplasm|Cytokinetic bridge", "Golgi apparatus"]
    assert manifest["Metadata_Location"].tolist() == [pd.NA, "Golgi apparatus"]
    assert manifest["Metadata_Target"].tolist() == ["16 0", "7"]
    fov = read_fov(mf.image_paths(manifest.iloc[1], CHANNELS))
    assert fov.shape == (4, 16, 16)
    assert fov[:, 0, 0].tolist() == [10, 11, 12, 13]  # microtubules (red), protein (green), nucleus (blue), ER (yellow)


def test_2021_single_cell_release_names_its_19_classes_and_resizes_to_one_size(tmp_path: Path) -> None:
    """``ID,Label`` with ``|``: class 8 is intermediate filaments and 18 negative (not the 2018
    names); squares of different sizes come out at ``resize_to``."""
    rows = [("5c27f04c-bb99-11e8-b2b9-ac1f6b6435d0", "8|5|0"), ("5fb643ee-bb99-11e8-b2b9-ac1f6b6435d0", "18"), ("60b57878-bb99-11e8-b2ba-ac1f6b6435d0", "17")]
    manifest = read_hpa(make_hpa(tmp_path, "ID,Label", rows, sizes=[32, 48, 64]))
    assert manifest["Metadata_Labels"].tolist() == [
        "Nucleoplasm|Nuclear bodies|Intermediate filaments",
        "Negative",
        "Vesicles and punctate cytosolic patterns",
    ]
    assert len(CLASSES_2021) == 19 and CLASSES_2021[8] == "Intermediate filaments" and CLASSES_2021[18] == "Negative"
    fields = PreprocessingJob(manifest, CHANNELS, PreprocessConfig(illumination=False, resize_to=(32, 32)))
    assert [image.shape for _, image in fields] == [(4, 32, 32)] * 3


def test_annotation_table_adds_cell_line_and_gene(tmp_path: Path) -> None:
    root = make_hpa(tmp_path, "Id,Target", [("10580_1610_C1_1", "0"), ("10580_1610_C1_2", "0")])
    (root / "annotations.csv").write_text("ID,Cellline,Gene\n10580_1610_C1_1,U-2 OS,ENSG00000000003\n")
    manifest = read_hpa(root, annotations="annotations.csv")
    assert manifest["Metadata_CellLine"].tolist()[0] == "U-2 OS" and manifest["Metadata_Gene"].tolist()[0] == "ENSG00000000003"
    assert manifest["Metadata_CellLine"].isna().tolist() == [False, True]
    (root / "other.csv").write_text("ID,Cellline\nabc,U-2 OS\n")
    with pytest.raises(ManifestError, match="no id of the annotation table is among"):
        read_hpa(root, annotations="other.csv")


@pytest.mark.parametrize(
    ("header", "target", "message"),
    [
        ("Id,Target", "28", r"row 1: invalid label '28' in '28' \(classes 0-27\)"),
        ("ID,Label", "19", r"row 1: invalid label '19' in '19' \(classes 0-18\)"),
        ("ID,Label", "3 4", r"row 1: invalid label '3 4'"),  # the 2021 release separates with |
        ("Image,Labels", "0", r"neither Kaggle 2018's Id,Target nor 2021's ID,Label"),
        ("Id,Target", "", r"row 1: empty label"),
    ],
)
def test_bad_labels_and_unknown_tables_name_the_table_and_row(tmp_path: Path, header: str, target: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        read_hpa(make_hpa(tmp_path, header, [(IDS[0], "0"), (IDS[1], target)]))

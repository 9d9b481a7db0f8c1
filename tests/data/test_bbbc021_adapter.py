"""The BBBC021 adapter on real rows of the real image table, with small generated TIFFs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cell_dino.data import manifest as mf
from cell_dino.data.adapters.bbbc021 import CHANNELS, read_bbbc021
from cell_dino.data.errors import ManifestError
from tests.conftest import write_tiff

# Real rows: dated and undated file names, the Week8 "4sites" prefix, taxol, DMSO, an unannotated treatment.
PICKS = {
    "taxol": lambda t: t.Image_Metadata_Compound.eq("taxol") & t.Image_Metadata_Concentration.eq(0.3),
    "dmso": lambda t: t.Image_Metadata_Compound.eq("DMSO"),
    "undated": lambda t: t.Image_FileName_DAPI.str.match(r"^[A-H]\d\d_s\d"),
    "week8": lambda t: t.Image_FileName_DAPI.str.startswith("Week8_4sites"),
    "unannotated": lambda t: t.Image_Metadata_Compound.eq("5-fluorouracil") & t.Image_Metadata_Concentration.eq(0.003),
    "annotated": lambda t: t.Image_Metadata_Compound.eq("mitomycin C") & t.Image_Metadata_Concentration.eq(3.0),
}


@pytest.fixture(scope="module")
def real_rows(shared_bbbc021: Path) -> pd.DataFrame:
    table = pd.read_csv(shared_bbbc021 / "BBBC021_v1_image.csv.gz")
    rows = pd.concat([table[pick(table)].head(2) for pick in PICKS.values()], ignore_index=True)
    return rows.drop_duplicates("Image_FileName_DAPI", ignore_index=True)


@pytest.fixture()
def bbbc021_tree(tmp_path: Path, real_rows: pd.DataFrame, shared_bbbc021: Path) -> Path:
    """A BBBC021 tree with the real tables (MoA table with CR-only endings) and tiny TIFFs."""
    real_rows.to_csv(tmp_path / "BBBC021_v1_image.csv", index=False)
    moa = (shared_bbbc021 / "BBBC021_v1_moa.csv").read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    (tmp_path / "BBBC021_v1_moa.csv").write_bytes(moa)
    for _, row in real_rows.iterrows():
        for source in ("DAPI", "Tubulin", "Actin"):
            write_tiff(tmp_path / row[f"Image_PathName_{source}"] / row[f"Image_FileName_{source}"])
    return tmp_path


def test_manifest_columns_and_values_follow_the_contract(bbbc021_tree: Path, real_rows: pd.DataFrame) -> None:
    manifest = read_bbbc021(bbbc021_tree)
    assert len(manifest) == len(real_rows) >= 10
    assert mf.channels_of(manifest) == CHANNELS
    assert manifest["FileName_DNA"].tolist() == real_rows.Image_FileName_DAPI.tolist()
    assert manifest["FileName_Actin"].tolist() == real_rows.Image_FileName_Actin.tolist()
    expected_sites = real_rows.Image_FileName_DAPI.str.extract(r"_s(\d)_w1", expand=False).astype(int)
    assert manifest[mf.SITE].tolist() == expected_sites.tolist()
    assert manifest[mf.BATCH].tolist() == real_rows.Image_PathName_DAPI.str.split("/").str[0].tolist()
    assert set(manifest[mf.BATCH]) <= {f"Week{i}" for i in range(1, 11)}
    by_compound = manifest.groupby(mf.COMPOUND)[mf.MOA].first()
    assert by_compound["taxol"] == "Microtubule stabilizers"
    assert by_compound["DMSO"] == "DMSO"
    assert by_compound["mitomycin C"] == "DNA damage"
    assert manifest.loc[manifest[mf.COMPOUND] == "5-fluorouracil", mf.MOA].isna().all()
    assert manifest[mf.CONTROL].tolist() == (manifest[mf.COMPOUND] == "DMSO").tolist()
    assert manifest[mf.FOV_KEY].is_unique
    for path in mf.image_paths(manifest.iloc[0], CHANNELS):
        assert Path(path).is_file()


def test_moa_join_tolerates_float_noise_in_concentrations(bbbc021_tree: Path) -> None:
    images = pd.read_csv(bbbc021_tree / "BBBC021_v1_image.csv")
    images["Image_Metadata_Concentration"] = images["Image_Metadata_Concentration"] * (1 + 1e-9)
    images.to_csv(bbbc021_tree / "BBBC021_v1_image.csv", index=False, float_format="%.12g")
    manifest = read_bbbc021(bbbc021_tree)
    assert manifest.loc[manifest[mf.COMPOUND] == "taxol", mf.MOA].eq("Microtubule stabilizers").all()


def test_a_concentration_written_as_text_names_the_file_row_and_column(bbbc021_tree: Path) -> None:
    images = pd.read_csv(bbbc021_tree / "BBBC021_v1_image.csv")
    images["Image_Metadata_Concentration"] = images["Image_Metadata_Concentration"].astype(object)
    images.loc[3, "Image_Metadata_Concentration"] = "10 uM"
    images.to_csv(bbbc021_tree / "BBBC021_v1_image.csv", index=False)
    with pytest.raises(ManifestError, match=r"BBBC021_v1_image.csv: row 3: Image_Metadata_Concentration '10 uM' is not a finite number"):
        read_bbbc021(bbbc021_tree)


def test_absent_column_is_named(bbbc021_tree: Path) -> None:
    images = pd.read_csv(bbbc021_tree / "BBBC021_v1_image.csv").drop(columns="Image_Metadata_Well_DAPI")
    images.to_csv(bbbc021_tree / "BBBC021_v1_image.csv", index=False)
    with pytest.raises(ManifestError, match=r"BBBC021_v1_image.csv.*Image_Metadata_Well_DAPI"):
        read_bbbc021(bbbc021_tree)


def test_missing_table_is_named(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="BBBC021_v1_image.csv"):
        read_bbbc021(tmp_path)


def test_whole_real_table_reads_with_its_real_counts(shared_bbbc021: Path, tmp_path: Path) -> None:
    """All 13,200 real rows: 103 annotated treatments + DMSO, sites 1-4, 10 batches."""
    for name in ("BBBC021_v1_image.csv.gz", "BBBC021_v1_moa.csv"):
        (tmp_path / name).symlink_to(shared_bbbc021 / name)
    manifest = read_bbbc021(tmp_path)
    assert len(manifest) == 13200
    assert manifest[mf.FOV_KEY].is_unique
    annotated = manifest.dropna(subset=[mf.MOA])
    assert annotated.loc[~annotated[mf.CONTROL], mf.TREATMENT].nunique() == 103
    assert sorted(manifest[mf.SITE].unique()) == [1, 2, 3, 4]
    assert manifest[mf.BATCH].nunique() == 10


def test_a_header_only_moa_table_names_the_file(tmp_path: Path, shared_bbbc021: Path) -> None:
    import shutil

    shutil.copy(shared_bbbc021 / "BBBC021_v1_image.csv.gz", tmp_path)
    (tmp_path / "BBBC021_v1_moa.csv").write_text("compound,concentration,moa\n")
    with pytest.raises(ManifestError, match=r"BBBC021_v1_moa\.csv: no fields in this table"):
        read_bbbc021(tmp_path)

"""The LINCS adapter against the real metadata (platemap join of plate SQ00015054 checked against its
real profiles), dose recoding, the top-dose set, LoadData illumination functions applied, and
images and functions read from a local S3 server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cell_dino.data import manifest as mf
from cell_dino.data.adapters.lincs import read_lincs, recode_dose
from cell_dino.data.adapters.loaddata import read_loaddata
from cell_dino.data.channels import ChannelSpec
from cell_dino.data.errors import DataError, ManifestError
from cell_dino.ingest.preprocessing_job import PreprocessConfig, PreprocessingJob
from tests.lincs_miniature import PLATE_MAP, REAL, chosen_wells, vignetting, write_metadata, write_miniature

ORIG = ChannelSpec(("OrigDNA", "OrigER", "OrigRNA", "OrigAGP", "OrigMito"))


def test_platemap_join_of_sq00015054_matches_its_real_profiles(tmp_path: Path) -> None:
    """Every well of the plate: broad_sample (DMSO for the empty ones), dose, MoA and control as the
    real level-4b profiles of SQ00015054 carry them."""
    write_metadata(tmp_path)
    wells = pd.read_csv(REAL / "platemap" / f"{PLATE_MAP}.txt", sep="\t")["well_position"]
    pd.DataFrame(
        {
            "FileName_OrigDNA": [f"{w}.tiff" for w in wells],
            "PathName_OrigDNA": "images",
            "Metadata_Plate": "SQ00015054",
            "Metadata_Well": wells,
        }
    ).to_csv(tmp_path / "load_data.csv", index=False)
    manifest = read_lincs(tmp_path, table="load_data.csv").set_index(mf.WELL)
    real = pd.read_csv(REAL / "SQ00015054_normalized_feature_select.csv.gz", usecols=lambda c: c.startswith("Metadata_")).set_index(mf.WELL)
    real = real.loc[manifest.index]
    assert len(manifest) == 384 and (manifest["Metadata_broad_sample"] == real["Metadata_broad_sample"]).all()
    np.testing.assert_allclose(manifest[mf.CONCENTRATION], real["Metadata_mmoles_per_liter"], rtol=1e-3)
    assert (manifest[mf.CONTROL] == (real["Metadata_pert_type"] == "control")).all() and manifest[mf.CONTROL].sum() == 24
    treated = ~manifest[mf.CONTROL]
    assert manifest.loc[treated, mf.MOA].fillna("").tolist() == real.loc[treated, "Metadata_moa"].fillna("").tolist()
    assert manifest.loc[treated, mf.MOA].isna().sum() == 18  # 3 compounds x 6 doses the MoA table does not annotate
    assert set(manifest[mf.BATCH]) == {"4"} and manifest.loc["E07", mf.COMPOUND] == "digoxin"
    assert manifest.loc["B13", mf.COMPOUND] == "BRD-K92657060"  # the MoA table names no pert_iname for it: the broad id
    assert manifest[mf.COMPOUND].notna().all() and manifest[mf.TREATMENT].notna().all()


def test_doses_recode_to_the_lincs_ranks() -> None:
    micromolar = pd.Series([10.0, 3.3333, 1.1111, 0.37037, 0.12346, 0.041152, 19.9998, 0.0, np.nan])
    assert recode_dose(micromolar).tolist() == [6, 5, 4, 3, 2, 1, 7, 0, 0]


def test_top_dose_set_keeps_each_compounds_highest_dose_and_the_controls(tmp_path: Path) -> None:
    write_miniature(tmp_path)
    everything = read_lincs(tmp_path)
    top = read_lincs(tmp_path, top_dose_only=True)
    assert len(everything) == 2 * len(chosen_wells()) == 2 * (6 * 6 + 4)
    assert len(top) == 2 * (6 + 4)
    assert (top.loc[~top[mf.CONTROL], "Metadata_DoseRecode"] == 6).all() and (top.loc[top[mf.CONTROL], "Metadata_DoseRecode"] == 0).all()
    assert sorted(top.loc[~top[mf.CONTROL], mf.TREATMENT].unique())[:2] == ["apremilast@10", "digoxin@10"]


def test_loaddata_illumination_functions_are_applied_not_read_as_channels(tmp_path: Path) -> None:
    write_miniature(tmp_path)
    manifest = read_lincs(tmp_path, top_dose_only=True)
    assert mf.channels_of(manifest) == ORIG and mf.illumination_column("OrigDNA") in manifest
    raw = PreprocessingJob(manifest.head(2), ORIG, PreprocessConfig(illumination=False))
    corrected = PreprocessingJob(manifest.head(2), ORIG, PreprocessConfig(illumination_functions="loaddata"))
    for (_, before), (_, after) in zip(raw, corrected, strict=True):
        np.testing.assert_allclose(after, before / vignetting(0)[None], rtol=1e-6)  # SQ00015054's saved function
    assert corrected.summary()["illumination_range"]["SQ00015054"]["OrigDNA"] == pytest.approx(
        float(vignetting(0).max() / vignetting(0).min())
    )


def test_images_and_functions_are_read_from_s3(tmp_path: Path, s3_bucket: tuple[str, Callable[[str, bytes], None]]) -> None:
    """``URL_`` columns with ``s3://`` locations (the Cell Painting Gallery's form) stay URLs and are
    read through fsspec; the same fields come out as from local files."""
    bucket, upload = s3_bucket
    write_miniature(tmp_path / "remote", f"{bucket}/lincs", lambda key, body: upload(f"lincs/{key}", body))
    write_miniature(tmp_path / "local")
    remote = read_lincs(tmp_path / "remote", top_dose_only=True)
    local = read_lincs(tmp_path / "local", top_dose_only=True)
    assert remote[mf.path_column("OrigDNA")].iloc[0] == f"{bucket}/lincs/images/SQ00015054"
    config = PreprocessConfig(illumination_functions="loaddata")
    for (key, a), (_, b) in zip(PreprocessingJob(remote.head(3), ORIG, config), PreprocessingJob(local.head(3), ORIG, config), strict=True):
        np.testing.assert_array_equal(a, b)
    missing = remote.head(1).assign(**{mf.file_column("OrigER"): "absent.tiff"})
    with pytest.raises(DataError, match=rf"{bucket}/lincs/images/SQ00015054/absent.tiff: image file not found"):
        list(PreprocessingJob(missing, ORIG, PreprocessConfig(illumination=False)))


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            lambda t: t.drop(columns=[c for c in t.columns if "Illum" in c]),
            DataError,
            r"illumination_functions: loaddata, but the table has no",
        ),
        (
            lambda t: t.rename(columns={"FileName_IllumDNA": "FileName_IllumDAPI", "PathName_IllumDNA": "PathName_IllumDAPI"}),
            ManifestError,
            r"\['IllumDAPI'\] match no channel",
        ),
        (lambda t: t.assign(Metadata_Plate="SQ99999999"), ManifestError, r"plate\(s\) \['SQ99999999'\] of the LoadData table are not in"),
        (lambda t: t.assign(Metadata_Well="Z99"), ManifestError, r"well Z99 of plate map C-7161-01-LM6-027 \(LoadData row 0\)"),
    ],
)
def test_broken_tables_name_what_is_wrong(tmp_path: Path, change, error: type, message: str) -> None:
    table = write_miniature(tmp_path)
    change(table).to_csv(tmp_path / "load_data_with_illum.csv", index=False)
    with pytest.raises(error, match=message):
        manifest = read_lincs(tmp_path)
        PreprocessingJob(manifest, ORIG, PreprocessConfig(illumination_functions="loaddata"))


def test_relative_and_url_paths_in_plain_loaddata(tmp_path: Path) -> None:
    """``PathName_`` values that are URLs or absolute are kept (they became ``<root>/s3:/...``)."""
    pd.DataFrame(
        {
            "FileName_OrigDNA": ["a.tiff", "b.tiff", "c.tiff"],
            "PathName_OrigDNA": ["s3://bucket/images", "/abs/images", "images"],
            "Metadata_Plate": "P",
            "Metadata_Well": ["A01", "A02", "A03"],
        }
    ).to_csv(tmp_path / "load_data.csv", index=False)
    manifest = read_loaddata(tmp_path)
    paths = [mf.image_paths(row, ChannelSpec(("OrigDNA",)))[0] for _, row in manifest.iterrows()]
    assert paths == ["s3://bucket/images/a.tiff", "/abs/images/b.tiff", str(tmp_path / "images" / "c.tiff")]


def test_a_dose_written_as_text_is_named_and_a_missing_dose_stays_missing(tmp_path: Path) -> None:
    """``10 uM`` in the platemap was read as 0 uM (treatment ``...@0``); now it names the file,
    row and column. A dose left empty stays missing, never 0."""
    table = write_miniature(tmp_path)
    table.to_csv(tmp_path / "load_data_with_illum.csv", index=False)
    path = tmp_path / "metadata" / "platemaps" / "platemap" / f"{PLATE_MAP}.txt"
    platemap = pd.read_csv(path, sep="\t")
    row = int(np.flatnonzero(platemap["well_position"] == table[mf.WELL].iloc[-1])[0])  # a treated well of the miniature
    platemap["mmoles_per_liter"] = platemap["mmoles_per_liter"].astype(object)
    platemap.loc[row, "mmoles_per_liter"] = "10 uM"
    platemap.to_csv(path, sep="\t", index=False)
    with pytest.raises(ManifestError, match=rf"{path}: row {row}: mmoles_per_liter '10 uM' is not a finite number"):
        read_lincs(tmp_path)
    platemap.loc[row, "mmoles_per_liter"] = ""
    platemap.to_csv(path, sep="\t", index=False)
    manifest = read_lincs(tmp_path).set_index(mf.WELL)
    well = platemap.loc[row, "well_position"]
    assert manifest.loc[[well], mf.CONCENTRATION].isna().all() and manifest.loc[manifest[mf.CONTROL], mf.CONCENTRATION].eq(0).all()


@pytest.mark.parametrize(
    ("value", "expected"), [("3", 3.0), (" 0.3 ", 0.3), ("", None), (None, None), ("NA", None), ("nan", None), ("1e-2", 0.01)]
)
def test_numbers_keep_missing_missing_and_parse_plain_numbers(value, expected) -> None:
    parsed = mf.numbers(pd.Series(["1", value], dtype=object), "t.csv", "c")
    assert parsed.iloc[0] == 1.0 and (np.isnan(parsed.iloc[1]) if expected is None else parsed.iloc[1] == pytest.approx(expected))


@pytest.mark.parametrize("value", ["1,5", "inf", "10 uM", "True"])
def test_numbers_refuse_text_and_infinities_naming_the_row(value) -> None:
    with pytest.raises(ManifestError, match=rf"t.csv: row 1: c '{value}' is not a finite number"):
        mf.numbers(pd.Series(["1", value], dtype=object), "t.csv", "c")


def test_numbers_leave_a_numeric_column_exactly_as_it_is() -> None:
    values = pd.Series([0.30000000000000004, 123456789.12345679, np.nan])
    parsed = mf.numbers(values, "t.csv", "c")
    assert parsed.iloc[0] == values.iloc[0] and parsed.iloc[1] == values.iloc[1] and np.isnan(parsed.iloc[2])

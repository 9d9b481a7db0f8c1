from pathlib import Path

import pandas as pd
import pytest

from cell_dino.data import manifest as mf
from cell_dino.data.adapters.loaddata import read_loaddata
from cell_dino.data.channels import ChannelSpec
from cell_dino.data.errors import ManifestError
from tests.conftest import write_tiff


def make_loaddata(root: Path, sites: list[int]) -> pd.DataFrame:
    rows = []
    for site in sites:
        row = {"Metadata_Plate": "P1", "Metadata_Well": "A01", "Metadata_Site": site,
               "Metadata_Compound": "cpd", "Metadata_Concentration": 0.5}
        for channel in ("DNA", "RNA", "Mito"):
            name = f"A01_s{site}_{channel}.tif"
            write_tiff(root / "images" / name)
            row |= {f"FileName_{channel}": name, f"PathName_{channel}": "images"}
        rows.append(row)
    table = pd.DataFrame(rows)
    table.to_csv(root / "load_data.csv", index=False)
    return table


def test_loaddata_builds_keys_treatments_and_resolves_relative_paths(tmp_path: Path) -> None:
    make_loaddata(tmp_path, [1, 2])
    manifest = read_loaddata(tmp_path)
    assert mf.channels_of(manifest) == ChannelSpec(("DNA", "RNA", "Mito"))
    assert manifest[mf.FOV_KEY].tolist() == ["P1/A01/1", "P1/A01/2"]
    assert manifest[mf.TREATMENT].tolist() == ["cpd@0.5", "cpd@0.5"]
    assert mf.BATCH not in manifest  # absent, not invented
    assert all(Path(p).is_file() for p in mf.image_paths(manifest.iloc[0], mf.channels_of(manifest)))


def test_loaddata_duplicate_fovs_fail_validation_naming_rows(tmp_path: Path) -> None:
    make_loaddata(tmp_path, [1, 1])
    manifest = read_loaddata(tmp_path)
    with pytest.raises(ManifestError, match=r"duplicate FOV keys \['P1/A01/1'\] in rows \[0, 1\]"):
        mf.validate_manifest(manifest, mf.channels_of(manifest), [], "load_data.csv")


def test_loaddata_without_path_column_is_named(tmp_path: Path) -> None:
    table = make_loaddata(tmp_path, [1]).drop(columns="PathName_RNA")
    table.to_csv(tmp_path / "load_data.csv", index=False)
    with pytest.raises(ManifestError, match="FileName_RNA has no PathName_RNA"):
        read_loaddata(tmp_path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.assign(Metadata_Well=[None, "A01"]), r"row\(s\) \[0\]: no value in key column\(s\)"),
        (lambda t: t.assign(PathName_DNA=[None, "images"]), r"row\(s\) \[0\]: empty PathName_DNA"),
        (lambda t: t.assign(Metadata_Concentration=["10uM", "1"]), r"row 0: Metadata_Concentration '10uM' is not a finite number"),
        (lambda t: t.assign(FileName_RNA=t["FileName_DNA"]), r"row 0: the same image file for two channels"),
        (lambda t: t.assign(Metadata_Site=[1, 2], FileName_DNA=t["FileName_DNA"].iloc[0]), r"rows \[0, 1\] name the same image file"),
    ],
)
def test_hostile_tables_name_the_row(tmp_path: Path, change, message: str) -> None:
    """They gave TypeErrors ('sequence item 1: expected str', PosixPath / float, format code 'g')
    or were accepted (one file ingested twice, or as two channels)."""
    change(make_loaddata(tmp_path, [1, 2])).to_csv(tmp_path / "load_data.csv", index=False)
    with pytest.raises(ManifestError, match=message):
        manifest = read_loaddata(tmp_path)
        mf.validate_manifest(manifest, mf.channels_of(manifest), [], "load_data.csv")


@pytest.mark.parametrize("sep", [";", "\t"])
def test_identifiers_stay_text_and_other_delimiters_are_read(tmp_path: Path, sep: str) -> None:
    """Plate 0042 became 42; a semicolon or tab table became one column named after the whole header."""
    make_loaddata(tmp_path, [1, 2]).assign(Metadata_Plate="0042").to_csv(tmp_path / "load_data.csv", index=False, sep=sep)
    manifest = read_loaddata(tmp_path)
    assert manifest["Metadata_Plate"].tolist() == ["0042", "0042"] and manifest[mf.FOV_KEY].tolist() == ["0042/A01/1", "0042/A01/2"]
    assert mf.channels_of(manifest) == ChannelSpec(("DNA", "RNA", "Mito"))

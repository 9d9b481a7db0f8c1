import pandas as pd
import pytest

from cell_dino.data import manifest as mf
from cell_dino.data.channels import ChannelSpec
from cell_dino.data.errors import ManifestError

CHANNELS = ChannelSpec(("DNA", "Actin"))


def manifest(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            mf.FOV_KEY: [f"P/A0{i}/1" for i in range(n)],
            mf.TREATMENT: ["a@1", "b@1", "b@1"][:n],
            mf.MOA: ["x", None, None][:n],
            "FileName_DNA": [f"{i}_dna.tif" for i in range(n)],
            "PathName_DNA": "/d",
            "FileName_Actin": [f"{i}_actin.tif" for i in range(n)],
            "PathName_Actin": "/d",
        }
    )


def test_empty_data_set_is_an_error() -> None:
    with pytest.raises(ManifestError, match="src: the data set is empty"):
        mf.validate_manifest(manifest().iloc[:0], CHANNELS, [], "src")


def test_absent_required_metadata_and_channel_columns_are_named() -> None:
    with pytest.raises(ManifestError, match=r"\['Metadata_Plate', 'FileName_Tubulin', 'PathName_Tubulin'\]"):
        mf.validate_manifest(manifest(), ChannelSpec(("DNA", "Tubulin")), [mf.PLATE], "src")


def test_blank_file_name_names_the_row() -> None:
    table = manifest()
    table.loc[2, "FileName_Actin"] = " "
    with pytest.raises(ManifestError, match=r"empty FileName_Actin in row\(s\) \[2\]"):
        mf.validate_manifest(table, CHANNELS, [], "src")


def test_missing_label_policy() -> None:
    with pytest.raises(ManifestError, match=r"1 treatment\(s\) with no Metadata_MoA: \['b@1'\]"):
        mf.apply_missing_label_policy(manifest(), mf.MOA, "raise", "src")
    dropped, unlabelled = mf.apply_missing_label_policy(manifest(), mf.MOA, "drop", "src")
    assert dropped[mf.TREATMENT].tolist() == ["a@1"] and unlabelled == ["b@1"]
    kept, _ = mf.apply_missing_label_policy(manifest(), mf.MOA, "keep", "src")
    assert len(kept) == 3


def test_channel_spec_mismatch_names_both_lists() -> None:
    with pytest.raises(ValueError, match=r"expected \['DNA', 'Actin'\], got \['Actin', 'DNA'\]"):
        CHANNELS.require_same(("Actin", "DNA"), "checkpoint")

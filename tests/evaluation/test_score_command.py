"""``cell-dino score`` on profile tables made elsewhere, with their column names as they come: the
real LINCS plate SQ00015054 (pycytominer's normalized_feature_select output) and the Ljosa 2013
BBBC021 well profiles written in the pycytominer layout."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cell_dino.cli import cli
from cell_dino.data.adapters.bbbc021 import read_bbbc021
from cell_dino.data.adapters.cellprofiler_profiles import read_well_profiles
from cell_dino.evaluation.nsc import moa_matching
from cell_dino.profiling.table import feature_columns
from tests.projects import SHARED_DATA

LINCS = SHARED_DATA / "lincs/SQ00015054_normalized_feature_select.csv.gz"
LINCS_COLUMNS = ["--label", "Metadata_moa", "--compound", "Metadata_broad_sample", "--batch", "Metadata_Plate"]
LINCS_CONTROLS = ["--control", "Metadata_pert_type=control", "--permutations", "100"]


def run_score(*args: str) -> tuple[dict, str]:
    result = CliRunner().invoke(cli, ["score", *args])
    assert result.exit_code == 0, result.output
    line = next(text for text in result.output.splitlines() if text.startswith("{"))
    return json.loads(line), result.output


def test_the_real_lincs_plate_is_scored_per_dose_with_its_own_column_names() -> None:
    record, output = run_score(str(LINCS), *LINCS_COLUMNS, "--dose", "Metadata_mmoles_per_liter", *LINCS_CONTROLS)
    assert (record["n_rows"], record["n_treatments"]) == (384, 339)  # 56 compounds x 6 doses (2 with a 7th), DMSO
    # independently: the median per compound at dose, matched by hand-built columns
    table = pd.read_csv(LINCS)
    table = table[table["Metadata_pert_type"] != "control"].assign(
        Metadata_Treatment=lambda t: t["Metadata_broad_sample"] + "@" + t["Metadata_mmoles_per_liter"].map("{:g}".format)
    )
    features = feature_columns(table)
    medians = table.groupby("Metadata_Treatment")[features].median()
    meta = table.groupby("Metadata_Treatment")[["Metadata_moa", "Metadata_broad_sample"]].first()
    expected = moa_matching(meta.join(medians).reset_index(), label="Metadata_moa", group="Metadata_broad_sample")
    assert record["n_nsc"] == expected.n_nsc == 60  # the treatments whose MoA another compound has
    assert record["nsc"] == pytest.approx(expected.nsc)
    assert record["nscb"] is None and "another batch" in record["undefined"]["nscb"]  # one plate: one batch
    assert record["n_map_activity"] == 2  # only two compounds have replicate wells at a dose
    assert "nsc" in output and "of 60" in output


def test_lincs_compounds_with_their_doses_as_replicates_are_mostly_active() -> None:
    record, _ = run_score(str(LINCS), *LINCS_COLUMNS, "--treatment", "Metadata_broad_sample", *LINCS_CONTROLS)
    assert record["n_treatments"] == 59 and record["n_map_activity"] == 58  # every compound but DMSO
    assert 0.0 <= record["fraction_active"] <= 1.0 and record["n_map_consistency"] >= 1


def test_the_ljosa_table_in_the_pycytominer_layout_gives_the_published_nsc_and_nscb(tmp_path: Path, shared_bbbc021: Path) -> None:
    wells = read_well_profiles(shared_bbbc021 / "ljosa_jbiomolscreen_2013_per_well_mean.csv.gz", read_bbbc021(shared_bbbc021))
    path = tmp_path / "ljosa_profiles.parquet"
    wells.to_parquet(path)
    record, _ = run_score(str(path), "--normalise", "zscore", "--dose", "Metadata_Concentration", "--permutations", "100")
    assert (record["n_nsc"], record["n_nscb"]) == (103, 92)
    assert (round(record["nsc"], 3), round(record["nscb"], 3)) == (0.883, 0.717)
    treatments, _ = run_score(str(path), "--normalise", "zscore", "--treatment", "Metadata_Treatment", "--level", "treatment")
    assert treatments["knn_well"] is None and "--level well" in treatments["undefined"]["map_activity"]


def test_a_column_that_is_not_there_is_named_with_the_closest_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["score", str(LINCS), "--label", "Metadata_MoA", "--compound", "Metadata_broad_sample"])
    assert result.exit_code == 1 and "--label column 'Metadata_MoA' not in the table (did you mean Metadata_moa?)" in result.output
    result = CliRunner().invoke(cli, ["score", str(LINCS), *LINCS_COLUMNS, "--control", "Metadata_pert_type"])
    assert result.exit_code == 1 and "give COLUMN=VALUE" in result.output
    bare = tmp_path / "features.csv"
    pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}).to_csv(bare, index=False)
    result = CliRunner().invoke(cli, ["score", str(bare)])
    assert result.exit_code == 1 and "no Metadata_* columns" in result.output


def test_control_flags_written_as_text_are_read_as_their_meaning(tmp_path: Path, shared_bbbc021: Path) -> None:
    wells = read_well_profiles(shared_bbbc021 / "ljosa_jbiomolscreen_2013_per_well_mean.csv.gz", read_bbbc021(shared_bbbc021))
    path = tmp_path / "ljosa_profiles.csv"
    wells.assign(Metadata_Control=wells["Metadata_Control"].map({True: "Yes", False: "no"})).to_csv(path, index=False)
    record, _ = run_score(str(path), "--normalise", "zscore_plate_controls", "--dose", "Metadata_Concentration", "--permutations", "100")
    reference = tmp_path / "ljosa_profiles.parquet"
    wells.to_parquet(reference)
    expected, _ = run_score(
        str(reference), "--normalise", "zscore_plate_controls", "--dose", "Metadata_Concentration", "--permutations", "100"
    )
    assert (record["n_nsc"], record["nsc"], record["nscb"]) == (expected["n_nsc"], expected["nsc"], expected["nscb"])
    wells.assign(Metadata_Control=wells["Metadata_Control"].map({True: "yes", False: "maybe"})).to_csv(path, index=False)  # rows 0-1: DMSO
    result = CliRunner().invoke(cli, ["score", str(path), "--dose", "Metadata_Concentration"])
    assert result.exit_code == 1 and f"{path}: Metadata_Control: row 2 is 'maybe', not a control flag" in result.output

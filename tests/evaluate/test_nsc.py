"""NSC / NSCB against hand-computed cases and the real Ljosa 2013 BBBC021 profiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cell_dino.data.adapters.cellprofiler_profiles import read_well_profiles
from cell_dino.data.errors import DataError, ManifestError
from cell_dino.evaluate.nsc import moa_matching, treatment_batches
from cell_dino.integrate.finite import finite_profiles
from cell_dino.integrate.levels import TREATMENT_KEYS, treatment_profiles
from cell_dino.integrate.normalise import zscore


def _treatments(rows: list[tuple[str, str, str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["Metadata_Treatment", "Metadata_Compound", "Metadata_MoA", "f0", "f1"]).assign(
        Metadata_Control=False
    )


def test_nsc_and_nscb_by_hand() -> None:
    treatments = _treatments(
        [
            ("a@1", "a", "X", 1.0, 0.0),
            ("a@3", "a", "X", 1.0, 0.05),  # same compound as a@1: never its NSC neighbour
            ("b@1", "b", "X", 0.0, 1.0),
            ("c@1", "c", "Y", 0.9, 0.1),
            ("d@1", "d", "Y", 0.1, 0.9),
        ]
    )
    batches = pd.Series([{"w1"}, {"w1"}, {"w2"}, {"w1"}, {"w2"}])
    result = moa_matching(treatments, batches)
    # NSC by cosine: a@1 -> c (Y) wrong; a@3 -> c wrong; b -> d (Y) wrong;
    # c -> a@3 (0.998 > 0.994 for a@1; X) wrong; d -> b (X) wrong
    assert result.table["nsc_match"].tolist() == [3, 3, 4, 1, 2]
    assert result.nsc == 0.0 and result.n_nsc == 5
    # NSCB also excludes the batch. cos(a@1, b) = 0, cos(a@1, d) = 0.110 -> d wrong; a@3 -> d (0.160) wrong;
    # b (w2) -> c (0.110; a@1 0, a@3 0.050) wrong; c (w1) -> d (0.219 > 0.110 for b) right;
    # d (w2) -> c (0.219 > 0.160 for a@3) right
    assert result.table["nscb_match"].tolist() == [4, 4, 3, 4, 3]
    assert result.nscb == pytest.approx(2 / 5) and result.n_nscb == 5


def test_nscb_drops_moas_confined_to_one_batch_and_controls_take_no_part() -> None:
    treatments = _treatments(
        [
            ("a@1", "a", "X", 1.0, 0.0),
            ("b@1", "b", "X", 0.9, 0.1),  # X: both in batch w1 -> not scored for NSCB
            ("c@1", "c", "Y", 0.0, 1.0),
            ("d@1", "d", "Y", 0.1, 0.9),  # Y: w1 and w2
            ("DMSO@0", "DMSO", "DMSO", 0.95, 0.0),
        ]
    )
    treatments.loc[4, "Metadata_Control"] = True
    result = moa_matching(treatments, pd.Series([{"w1"}, {"w1"}, {"w1"}, {"w2"}, {"w1", "w2"}]))
    assert result.n_nsc == 4 and result.nsc == 1.0
    assert result.table["nscb_scored"].tolist() == [False, False, True, True] and result.n_nscb == 2
    assert result.nscb == 1.0  # c <-> d across batches


def test_treatment_batches_are_the_sets_of_their_wells_batches() -> None:
    wells = pd.DataFrame({"Metadata_Treatment": ["t@1", "t@1", "u@1"], "Metadata_Batch": ["w1", "w2", "w2"]})
    treatments = pd.DataFrame({"Metadata_Treatment": ["u@1", "t@1"]}, index=[7, 9])
    batches = treatment_batches(wells, treatments, ["Metadata_Treatment"])
    assert batches.to_dict() == {7: frozenset({"w2"}), 9: frozenset({"w1", "w2"})}


def test_real_ljosa_profiles_give_the_published_nsc_and_nscb(ljosa_wells: pd.DataFrame) -> None:
    """Global z-score, median per treatment, cosine 1-NN (WS-DINO protocol, all labelled wells)."""
    assert len(ljosa_wells) == 632 and ljosa_wells["Metadata_Control"].sum() == 330
    wells = zscore(ljosa_wells, "all")
    treatments = treatment_profiles(wells, "median")
    result = moa_matching(treatments, treatment_batches(wells, treatments, TREATMENT_KEYS))
    assert (result.n_nsc, result.n_nscb) == (103, 92)
    assert round(result.nsc, 2) == 0.88 and round(result.nscb, 2) == 0.72
    dropped = set(result.table.loc[~result.table["nscb_scored"], "Metadata_MoA"])
    assert dropped == {"Cholesterol-lowering", "Kinase inhibitors"}


def test_profiles_of_a_well_absent_from_the_manifest_name_the_row(tmp_path: Path, ljosa_wells: pd.DataFrame) -> None:
    manifest = ljosa_wells.assign(Metadata_FOV="x", Metadata_Site=1).iloc[:3]
    table = tmp_path / "profiles.csv"
    pd.DataFrame(
        {
            "Image_Metadata_Plate": [manifest["Metadata_Plate"].iloc[0], "Week99_1"],
            "Image_Metadata_Well": [manifest["Metadata_Well"].iloc[0], "A01"],
            "f": [1.0, 2.0],
        }
    ).to_csv(table, index=False)
    with pytest.raises(ManifestError, match=r"profiles.csv: row 1: well Week99_1/A01 is not in the manifest"):
        read_well_profiles(table, manifest)


def test_nscb_is_undefined_when_every_treatment_is_in_every_batch() -> None:
    """A common replicate design: no treatment has a neighbour outside its batches, so none is
    scored, and NSCB is NaN with n = 0 (it was reported as 0.0 with n = 4)."""
    treatments = _treatments(
        [("a@1", "a", "X", 1.0, 0.0), ("b@1", "b", "X", 0.9, 0.1), ("c@1", "c", "Y", 0.0, 1.0), ("d@1", "d", "Y", 0.1, 0.9)]
    )
    result = moa_matching(treatments, pd.Series([{"w1", "w2"}] * 4))
    assert result.nsc == 1.0 and result.n_nsc == 4
    assert np.isnan(result.nscb) and result.n_nscb == 0 and "another batch" in result.undefined["nscb"]


def test_without_batches_nscb_is_undefined_and_nsc_is_still_scored() -> None:
    treatments = _treatments(
        [("a@1", "a", "X", 1.0, 0.0), ("b@1", "b", "X", 0.9, 0.1), ("c@1", "c", "Y", 0.0, 1.0), ("d@1", "d", "Y", 0.5, 0.5)]
    )
    result = moa_matching(treatments)
    assert result.nsc == pytest.approx(3 / 4) and np.isnan(
        result.nscb
    )  # d (0.5, 0.5) is nearest b and "Metadata_Batch" in result.undefined["nscb"]


def test_tied_neighbours_count_by_the_share_with_the_same_moa() -> None:
    """Identical profiles: each treatment's 3 other-compound neighbours tie, 1 of them shares its
    MoA, so NSC is 1/3 whatever the row order (the first index, an arbitrary pick, gave 1/2)."""
    treatments = _treatments(
        [("a@1", "a", "X", 1.0, 1.0), ("b@1", "b", "X", 1.0, 1.0), ("c@1", "c", "Y", 1.0, 1.0), ("d@1", "d", "Y", 1.0, 1.0)]
    )
    result = moa_matching(treatments)
    assert result.nsc == pytest.approx(1 / 3) and result.table["nsc_ties"].tolist() == [3, 3, 3, 3]
    assert moa_matching(treatments.iloc[::-1]).nsc == pytest.approx(1 / 3)


def test_zero_norm_treatments_take_no_part() -> None:
    treatments = _treatments(
        [("a@1", "a", "X", 1.0, 0.0), ("b@1", "b", "X", 0.9, 0.1), ("c@1", "c", "X", 0.0, 1.0), ("z@1", "z", "X", 0.0, 0.0)]
    )
    treatments.loc[2, "Metadata_MoA"] = "Y"
    treatments = pd.concat([treatments, _treatments([("d@1", "d", "Y", 0.1, 1.0)])], ignore_index=True)
    result = moa_matching(treatments)
    assert result.n_nsc == 4 and 3 not in result.table["treatment_index"].tolist()


def test_a_treatment_whose_moa_has_no_other_compound_is_not_scored() -> None:
    """On a LINCS plate most MoAs have one compound: such treatments can never be matched, and
    counting them wrong made NSC measure the plate's design, not the profiles (0.022 on SQ00015054)."""
    treatments = _treatments(
        [("a@1", "a", "X", 1.0, 0.0), ("b@1", "b", "X", 0.9, 0.1), ("c@1", "c", "Y", 0.0, 1.0), ("c@3", "c", "Y", 0.1, 1.0)]
    )
    result = moa_matching(treatments)
    assert (result.nsc, result.n_nsc) == (1.0, 2)  # a and b match each other; c's MoA has no other compound
    assert result.table["nsc_scored"].tolist() == [True, True, False, False]


def test_one_missing_value_in_the_real_ljosa_profiles_leaves_nsc_and_nscb_unchanged(ljosa_wells: pd.DataFrame) -> None:
    """``Cells_AreaShape_Area`` of the first well missing: it took NSC from 0.883 to 0.049 (every
    well NaN after the z-score). Now that well (a DMSO well) is dropped and counted, the feature is
    kept, and NSC / NSCB stay."""
    broken = ljosa_wells.copy()
    broken.loc[0, "Cells_AreaShape_Area"] = np.nan
    with pytest.raises(DataError, match=r"Metadata_Plate=Week10_40111, Metadata_Well=B02.*column Cells_AreaShape_Area = nan"):
        finite_profiles(broken, "raise", "Ljosa wells")
    wells, dropped = finite_profiles(broken, "drop", "Ljosa wells")
    assert dropped["n_rows_dropped"] == 1 and dropped["n_features_dropped"] == 0 and "Metadata_Well=B02" in dropped["rows"][0]
    wells = zscore(wells, "all")
    treatments = treatment_profiles(wells, "median")
    result = moa_matching(treatments, treatment_batches(wells, treatments, TREATMENT_KEYS))
    assert (round(result.nsc, 3), round(result.nscb, 3), result.n_nsc, result.n_nscb) == (0.883, 0.717, 103, 92)


def test_a_badly_measured_well_costs_that_well_and_a_failed_feature_costs_that_feature(ljosa_wells: pd.DataFrame) -> None:
    """One well with 45 % of its features missing dropped 232 features of every well (NSC 0.816);
    a feature missing in a whole batch (a week of plates) is dropped, as pycytominer drops features
    missing in more than 5 % of the rows."""
    features = [c for c in ljosa_wells.columns if not c.startswith("Metadata_")]
    broken = ljosa_wells.copy()
    broken.loc[5, features[: int(0.45 * len(features))]] = np.nan
    plate = broken["Metadata_Batch"] == broken["Metadata_Batch"].iloc[100]
    broken.loc[plate, "Nuclei_AreaShape_Area"] = np.nan
    wells, dropped = finite_profiles(broken, "drop", "Ljosa wells")
    assert (dropped["n_rows_dropped"], dropped["features"]) == (1, ["Nuclei_AreaShape_Area"]) and plate.mean() > 0.05
    wells = zscore(wells, "all")
    treatments = treatment_profiles(wells, "median")
    result = moa_matching(treatments, treatment_batches(wells, treatments, TREATMENT_KEYS))
    assert (round(result.nsc, 3), round(result.nscb, 3)) == (0.893, 0.717)  # one feature fewer: 0.816 / 0.674 when 232 went

"""WS-DINO's profile protocol on small in-memory tables of real BBBC021 wells: TVN fitted on the
DMSO images at full rank, well means of normalised FOV profiles, and epoch selection on those
profiles with the best-on-test epoch and the mean over a window of epochs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cell_dino.core.undefined import Undefined
from cell_dino.integrate.levels import fov_profiles, well_profiles
from cell_dino.integrate.normalise import tvn
from cell_dino.integrate.table import controls, feature_matrix
from cell_dino.pipelines.evaluate.nodes import select_epoch
from cell_dino.pipelines.integrate.nodes import integrate_profiles
from tests.fixtures import bbbc021_wells, items_of, planted
from tests.pipelines.test_integrate_evaluate_nodes import EVALUATE, MOAS, integrate_params

FOV_TVN = {"normalisations": ["tvn"], "normalise_level": "fov", "normalise": {"tvn_components": "full"}}


@pytest.fixture(scope="module")
def fields(bbbc021_manifest: pd.DataFrame) -> pd.DataFrame:
    """One row per field (4 sites per well) of 4 MoAs x 2 compounds and 4 DMSO wells per plate: 8 features."""
    wells = bbbc021_wells(bbbc021_manifest, MOAS, controls_per_plate=4)
    return planted(items_of(wells, sites=4, cells=1), n_features=8, seed=2).drop(columns="Metadata_Index")


def test_full_rank_tvn_whitens_the_control_images_and_refuses_too_few(fields: pd.DataFrame) -> None:
    normalised = tvn(fields, "full")
    x = feature_matrix(normalised)[controls(normalised)]
    assert x.shape[1] == 8  # every dimension kept
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(np.cov(x, rowvar=False), np.eye(8), atol=1e-6)
    few = pd.concat([fields[~controls(fields)], fields[controls(fields)].head(8)])  # 8 control images, 8 features
    with pytest.raises(Undefined, match="8 control rows for 8 features"):
        tvn(few, "full")


def test_fov_level_normalisation_is_fitted_on_images_then_averaged_per_well(fields: pd.DataFrame) -> None:
    profiles, record = integrate_profiles(fields, integrate_params(**FOV_TVN))
    expected = well_profiles(tvn(fov_profiles(fields), "full"))
    pd.testing.assert_frame_equal(profiles["tvn/well"].reset_index(drop=True), expected.reset_index(drop=True))
    assert record["undefined"] == {}
    one_plate = fields[fields["Metadata_Plate"] == fields.loc[controls(fields), "Metadata_Plate"].iloc[0]]
    well_level, record = integrate_profiles(one_plate, integrate_params(**(FOV_TVN | {"normalise_level": "well"})))
    assert "tvn/well" not in well_level and "4 control rows for 8 features" in record["undefined"]["tvn"]  # 4 DMSO wells
    fov_level, record = integrate_profiles(one_plate, integrate_params(**FOV_TVN))
    assert "tvn/well" in fov_level and record["undefined"] == {}  # their 16 images suffice


def test_epoch_selection_on_tvn_profiles_reports_the_choice_the_best_on_test_and_the_window_mean(
    bbbc021_manifest: pd.DataFrame, fields: pd.DataFrame
) -> None:
    wells = bbbc021_wells(bbbc021_manifest, MOAS, controls_per_plate=4)
    epochs = pd.concat(
        [
            planted(items_of(wells, sites=4, cells=1), n_features=8, effect=effect, seed=3).assign(Metadata_Epoch=epoch)
            for epoch, effect in ((0, 0.0), (1, 4.0), (2, 0.0))
        ]
    ).drop(columns="Metadata_Index")
    evaluate = EVALUATE.model_copy(update={"epoch_normalisation": "tvn", "epoch_window": 2})
    table, selection = select_epoch(epochs, evaluate, integrate_params(**FOV_TVN))
    assert table["epoch"].tolist() == [0, 1, 2]
    assert table["nsc"].iloc[1] == pytest.approx(1.0) and table["nsc"].iloc[[0, 2]].max() < 0.6
    assert selection["selected_epoch"] == 1 and selection["best_on_test_epoch_nsc (optimistic)"] == 1
    assert selection["window"]["epochs"] == [1, 2]
    assert selection["window"]["mean_nsc"] == pytest.approx(table["nsc"].iloc[1:].mean()) and selection["window"]["n_nsc"] == 2
    _, wide = select_epoch(epochs, evaluate.model_copy(update={"epoch_window": 5}), integrate_params(**FOV_TVN))
    assert wide["window"]["epochs"] == [0, 1, 2] and "3 checkpoint(s), fewer than epoch_window 5" in wide["window"]["note"]

"""Aggregation and normalisation against hand-computed values and their defining properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cell_dino.core.undefined import Undefined
from cell_dino.integrate.aggregate import aggregate
from cell_dino.integrate.batch_correction import harmony
from cell_dino.integrate.levels import fov_profiles, well_profiles
from cell_dino.integrate.normalise import sphering, tvn, zscore
from cell_dino.integrate.table import feature_matrix


def test_aggregate_mean_median_and_constant_metadata_by_hand() -> None:
    cells = pd.DataFrame(
        {
            "Metadata_FOV": ["p/A01/s1"] * 3 + ["p/A01/s2"] * 2,
            "Metadata_Well": ["A01"] * 5,
            "Metadata_Site": [1, 1, 1, 2, 2],
            "Metadata_Cell": list("abcde"),
            "f0": [1.0, 2.0, 6.0, 4.0, 8.0],
            "f1": [0.0, 0.0, 3.0, 1.0, 1.0],
        }
    )
    fovs = aggregate(cells, ["Metadata_FOV"], "mean")
    assert fovs["f0"].tolist() == [3.0, 6.0] and fovs["f1"].tolist() == [1.0, 1.0]
    assert fovs["Metadata_Count"].tolist() == [3, 2] and "Metadata_Cell" not in fovs  # varies within a field
    assert fovs["Metadata_Site"].tolist() == [1, 2] and fovs["Metadata_Well"].tolist() == ["A01", "A01"]
    medians = aggregate(cells, ["Metadata_Well"], "median")
    assert medians["f0"].tolist() == [4.0] and "Metadata_Site" not in medians
    with pytest.raises(ValueError, match=r"column\(s\) \['Metadata_Plate'\] not in the profile table"):
        aggregate(cells, ["Metadata_Plate"])


def test_cells_to_wells_weights_each_field_equally() -> None:
    cells = pd.DataFrame(
        {
            "Metadata_FOV": ["f1", "f1", "f1", "f2"],
            "Metadata_Plate": ["p"] * 4,
            "Metadata_Well": ["A01"] * 4,
            "Metadata_Index": [0, 1, 2, 3],
            "f0": [0.0, 0.0, 0.0, 4.0],
        }
    )
    wells = well_profiles(fov_profiles(cells))
    assert wells["f0"].tolist() == [2.0] and wells["Metadata_Count"].tolist() == [2]


def _plates(rng: np.random.Generator) -> pd.DataFrame:
    n = 40
    plate = np.repeat(["p1", "p2"], n // 2)
    control = np.tile([True, False], n // 2)
    x = rng.normal(size=(n, 3)) * [1.0, 2.0, 0.5] + np.where(plate == "p2", 5.0, 0.0)[:, None]
    return pd.DataFrame({"Metadata_Plate": plate, "Metadata_Control": control, **{f"f{j}": x[:, j] for j in range(3)}})


def test_zscore_per_plate_against_controls_by_hand() -> None:
    profiles = _plates(np.random.default_rng(0))
    out = zscore(profiles, "controls", by="Metadata_Plate")
    for plate in ("p1", "p2"):
        rows = profiles["Metadata_Plate"] == plate
        ref = profiles.loc[rows & profiles["Metadata_Control"], ["f0", "f1", "f2"]]
        expected = (profiles.loc[rows, ["f0", "f1", "f2"]] - ref.mean()) / ref.std(ddof=0)
        np.testing.assert_allclose(out.loc[rows.to_numpy(), ["f0", "f1", "f2"]].to_numpy(), expected.to_numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="reference 'controls' needs at least 2 control rows"):
        zscore(profiles.assign(Metadata_Control=False), "controls")


def test_sphering_and_tvn_whiten_the_controls() -> None:
    rng = np.random.default_rng(1)
    mixing = rng.normal(size=(4, 4))
    x = rng.normal(size=(300, 4)) @ mixing
    profiles = pd.DataFrame(x, columns=[f"f{j}" for j in range(4)]).assign(Metadata_Control=np.arange(300) % 3 == 0)
    controls = profiles["Metadata_Control"].to_numpy()
    sphered = feature_matrix(sphering(profiles, "controls", epsilon=0.0))[controls]
    np.testing.assert_allclose(np.cov(sphered, rowvar=False), np.eye(4), atol=1e-6)
    whitened = feature_matrix(tvn(profiles))[controls]
    np.testing.assert_allclose(np.cov(whitened, rowvar=False), np.eye(4), atol=1e-6)
    # ZCA keeps the features' orientation: each sphered feature correlates most with its own input
    assert (np.abs(np.corrcoef(sphered.T, x[controls].T)[:4, 4:]).argmax(axis=1) == np.arange(4)).all()


def test_harmony_removes_a_planted_batch_shift_but_keeps_the_biology() -> None:
    rng = np.random.default_rng(2)
    n = 240
    batch = np.repeat(["b1", "b2"], n // 2)
    biology = np.tile(np.repeat([0, 1], 30), 4)
    x = rng.normal(size=(n, 5)) * 0.5
    x[:, 0] += 3.0 * biology
    x[:, 1] += np.where(batch == "b2", 2.0, 0.0)
    profiles = pd.DataFrame(x, columns=[f"f{j}" for j in range(5)]).assign(Metadata_Batch=batch)
    corrected = feature_matrix(harmony(profiles, "Metadata_Batch", n_components=5))  # all components: a rotation

    def distance(values: np.ndarray, labels: np.ndarray) -> float:
        return float(np.linalg.norm(values[labels == labels[0]].mean(0) - values[labels != labels[0]].mean(0)))

    assert distance(corrected, batch) < 0.4 * distance(x, batch)
    assert distance(corrected, biology) > 0.9 * distance(x, biology)


def _two_batches(n: int, n_features: int = 5) -> pd.DataFrame:
    x = np.random.default_rng(3).normal(size=(n, n_features))
    return pd.DataFrame(x, columns=[f"f{j}" for j in range(n_features)]).assign(
        Metadata_Batch=np.arange(n) % 2, Metadata_Control=np.arange(n) % 3 == 0
    )


def test_harmony_on_15_profiles_is_undefined_and_on_16_runs() -> None:
    """15 wells crashed harmonypy (round(15 / 30) = 0 clusters, "nclust must be at least 1")."""
    with pytest.raises(Undefined, match="Harmony needs at least 16 profiles .* got 15"):
        harmony(_two_batches(15), "Metadata_Batch")
    assert feature_matrix(harmony(_two_batches(16), "Metadata_Batch")).shape == (16, 5)


def test_tvn_with_more_components_than_the_controls_support_is_undefined() -> None:
    """An int ``n_components`` above min(controls, features) raised sklearn's ValueError and took
    every normalisation with it; a fraction of variance stays valid on any size."""
    profiles = _two_batches(12)  # 4 control rows of 5 features: at most 4 components
    with pytest.raises(Undefined, match="TVN keeps 5 components, but 4 control rows of 5 features support at most 4"):
        tvn(profiles, n_components=5)
    assert feature_matrix(tvn(profiles, n_components=4)).shape == (12, 3)  # 4 centred rows span 3 dimensions: the 4th has no variance
    assert feature_matrix(tvn(profiles, n_components=0.99)).shape[0] == 12

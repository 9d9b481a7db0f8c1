"""Normalisations through pycytominer equal the textbook formulas (the project's former
hand-written ones) on the real Ljosa 2013 BBBC021 well profiles, within 1e-6 relative to the
value (profiles are stored as float32: a z-score of 300 against 6 DMSO wells carries 2e-5 of
rounding)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cell_dino.core.undefined import Undefined
from cell_dino.integrate.normalise import NormalisationSettings, normalised, robust_zscore, sphering, zscore
from cell_dino.integrate.table import feature_columns, feature_matrix


def _per_plate(wells: pd.DataFrame, reference: np.ndarray, transform) -> np.ndarray:
    """``transform(reference rows, rows)`` of each plate's feature matrix, in row order."""
    x, out = feature_matrix(wells), np.empty(feature_matrix(wells).shape)
    for plate in wells["Metadata_Plate"].unique():
        rows = (wells["Metadata_Plate"] == plate).to_numpy()
        out[rows] = transform(x[rows & reference], x[rows])
    return out


def _assert_close(ours: np.ndarray, expected: np.ndarray) -> None:
    assert (np.abs(ours - expected) <= 1e-6 * np.maximum(1.0, np.abs(expected))).all()


def _decorrelated(wells: pd.DataFrame, limit: float = 0.5) -> pd.DataFrame:
    """The metadata and the features whose DMSO correlation with every earlier kept feature is
    below ``limit`` (28 of Ljosa's 516): controls of full, well-conditioned rank."""
    x = feature_matrix(wells)[wells["Metadata_Control"].to_numpy()]
    correlation, keep = np.corrcoef(x, rowvar=False), []
    for j in range(x.shape[1]):
        if x[:, j].std() > 0 and all(abs(correlation[j, k]) < limit for k in keep):
            keep.append(j)
    features = [feature_columns(wells)[j] for j in keep]
    return wells[[c for c in wells.columns if c.startswith("Metadata_")] + features]


def _standardised(reference: np.ndarray, x: np.ndarray) -> np.ndarray:
    std = reference.std(axis=0)
    return (x - reference.mean(axis=0)) / np.where(std > 0, std, 1.0)


def test_zscore_per_plate_against_dmso_equals_the_formula_on_ljosa_wells(ljosa_wells: pd.DataFrame) -> None:
    control = ljosa_wells["Metadata_Control"].to_numpy()
    ours = feature_matrix(zscore(ljosa_wells, "controls", by="Metadata_Plate"))
    _assert_close(ours, _per_plate(ljosa_wells, control, _standardised))
    everywhere = feature_matrix(zscore(ljosa_wells, "all"))
    _assert_close(everywhere, _standardised(feature_matrix(ljosa_wells), feature_matrix(ljosa_wells)))


def test_mad_robustize_per_plate_equals_median_and_scaled_mad_on_ljosa_wells(ljosa_wells: pd.DataFrame) -> None:
    """JUMP's normalisation: (x - median) / (1.4826 MAD + epsilon) per plate, of every well. The
    features whose MAD is 0 on some plate (counts, Euler numbers) came out near 1e16 and took NSC
    from 0.77 to 0.55; they are left out."""

    def robust(reference: np.ndarray, x: np.ndarray) -> np.ndarray:
        median = np.median(reference, axis=0)
        return (x - median) / (1.4826 * np.median(np.abs(reference - median), axis=0) + 1e-18)

    ours = normalised(ljosa_wells, "mad_robustize_plate")
    kept = feature_columns(ours)
    flat = sorted(set(feature_columns(ljosa_wells)) - set(kept))
    assert 1 <= len(flat) <= 10 and any("EulerNumber" in f for f in flat), flat
    wells = ljosa_wells[[c for c in ljosa_wells.columns if c.startswith("Metadata_")] + kept]
    _assert_close(feature_matrix(ours), _per_plate(wells, np.ones(len(wells), dtype=bool), robust))
    assert np.abs(feature_matrix(ours)).max() < 1e6
    against_dmso = robust_zscore(ljosa_wells, "controls", by="Metadata_Plate")
    common = [f for f in kept if f in set(feature_columns(against_dmso))]
    assert not np.allclose(against_dmso[common].to_numpy(), ours[common].to_numpy())  # the reference matters


def test_zca_sphering_without_epsilon_equals_the_inverse_square_root_of_the_dmso_covariance(ljosa_wells: pd.DataFrame) -> None:
    """On decorrelated features the 330 DMSO wells have full rank: ZCA is then (x - mean) cov^-1/2
    however it is computed (pycytominer through the SVD of the centred controls, here by
    eigenvectors)."""
    wells = _decorrelated(ljosa_wells)
    n = len(feature_columns(wells))
    control = wells["Metadata_Control"].to_numpy()
    x = feature_matrix(wells)
    mean = x[control].mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(x[control] - mean, rowvar=False))
    expected = (x - mean) @ vectors @ np.diag(values**-0.5) @ vectors.T
    ours = feature_matrix(sphering(wells, "controls", epsilon=0.0))
    _assert_close(ours, expected)
    np.testing.assert_allclose(np.cov(ours[control], rowvar=False), np.eye(n), atol=1e-5)


def test_correlation_sphering_of_a_feature_constant_in_the_controls_is_undefined_with_pycytominers_reason() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2))
    profiles = pd.DataFrame({"f0": x[:, 0], "f1": x[:, 1], "f2": np.arange(40) % 2, "Metadata_Control": np.arange(40) % 2 == 0})
    with pytest.raises(Undefined, match="pycytominer spherize: .*low variance columns"):
        sphering(profiles, method="ZCA-cor")


def test_sphering_settings_choose_pycytominers_method(ljosa_wells: pd.DataFrame) -> None:
    wells = _decorrelated(ljosa_wells)
    zca = feature_matrix(normalised(wells, "sphering", NormalisationSettings(sphering_method="ZCA")))
    zca_cor = feature_matrix(normalised(wells, "sphering", NormalisationSettings(sphering_method="ZCA-cor")))
    control = wells["Metadata_Control"].to_numpy()
    for sphered in (zca, zca_cor):
        np.testing.assert_allclose(np.cov(sphered[control], rowvar=False), np.eye(sphered.shape[1]), atol=1e-3)
    assert np.abs(zca - zca_cor).max() > 0.1  # different whitenings of the same controls


def test_pca_sphering_keeps_the_features_place(ljosa_wells: pd.DataFrame) -> None:
    """pycytominer renames PCA's outputs PC1...; they were looked up by the feature names (KeyError)."""
    wells = _decorrelated(ljosa_wells)
    sphered = sphering(wells, "controls", epsilon=0.0, method="PCA")
    assert feature_columns(sphered) == feature_columns(wells)
    control = wells["Metadata_Control"].to_numpy()
    np.testing.assert_allclose(np.cov(feature_matrix(sphered)[control], rowvar=False), np.eye(len(feature_columns(wells))), atol=1e-5)

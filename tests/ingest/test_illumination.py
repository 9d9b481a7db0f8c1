"""Illumination correction recovers a known field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from cell_dino.data import manifest as mf
from cell_dino.data.adapters.bbbc021 import read_bbbc021
from cell_dino.ingest.illumination import IlluminationAccumulator, correct_illumination, function_range, illumination_function
from cell_dino.ingest.preprocessing_job import PreprocessConfig, PreprocessingJob
from cell_dino.phantom.acquisition import illumination_field


def relative_error(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Largest relative difference of the shapes where the truth is above its 2nd percentile:
    CellProfiler's robust minimum floors the function below it."""
    above = truth > np.percentile(truth, 2)
    estimate, truth = estimate[above] / estimate[above].mean(), truth[above] / truth[above].mean()
    return float(np.max(np.abs(estimate - truth) / truth))


def test_recovers_a_known_field_from_textured_fields() -> None:
    rng = np.random.default_rng(0)
    shape = (96, 128)
    truth = np.stack([illumination_field(shape, rng) for _ in range(2)])
    accumulator = IlluminationAccumulator(clip_percentile=99.0)
    fields = []
    for _ in range(60):
        spots = ndimage.gaussian_filter((rng.random((2, *shape)) < 0.01).astype(float), (0, 2, 2)) * 2000
        debris = (rng.random((2, *shape)) < 0.0005) * 60000.0  # bright outliers the clip must absorb
        field = truth * (200 + spots + rng.normal(0, 5, (2, *shape))) + debris
        accumulator.add(field)
        fields.append(field)
    function = illumination_function(accumulator.mean(), "polynomial", degree=3)
    assert np.allclose(function.min(axis=(1, 2)), 1.0)  # CellProfiler's "Rescale: Yes": at least 1, correction never amplifies
    assert relative_error(function[0], truth[0]) < 0.03
    assert relative_error(function[1], truth[1]) < 0.03
    flat = np.mean([correct_illumination(f, function) for f in fields], axis=0)
    uncorrected_spread = np.std(np.mean(fields, axis=0)[0]) / np.mean(fields)
    assert np.std(ndimage.gaussian_filter(flat[0], 8)) / flat.mean() < 0.2 * uncorrected_spread


def test_stream_flattens_the_phantom_batch_fields(test_phantom: Path) -> None:
    """With only 24 sparse fields per plate the estimate is noisy; it must still remove most of
    each batch's true illumination field (the known-field test above checks exact recovery)."""
    manifest = read_bbbc021(test_phantom)
    stream = PreprocessingJob(manifest, mf.channels_of(manifest), PreprocessConfig())
    assert sum(1 for _ in stream) == len(manifest)
    raw_spread, residual_spread = [], []
    for plate, function in stream.illumination_functions.items():
        batch = plate.split("_")[0]
        truth = tifffile.imread(test_phantom / "ground_truth" / "illumination" / f"{batch}.tif")[:, ::8, ::8]
        residual = truth / function
        raw_spread.append(np.std(truth, axis=(1, 2)) / truth.mean(axis=(1, 2)))
        residual_spread.append(np.std(residual, axis=(1, 2)) / residual.mean(axis=(1, 2)))
    assert np.mean(residual_spread) < 0.75 * np.mean(raw_spread)


def test_correction_never_amplifies_background_when_the_mean_image_holds_cells() -> None:
    """Flat true illumination, nuclei only in the left third of 4 fields (128 x 128, background
    200): the polynomial through that mean image dipped to 0.003 of its mean, and correction
    scaled the background up to 75,344 (377x). Floored and rescaled as CellProfiler does, the
    function is at least 1 and the background is never amplified; the range is reported."""
    rng = np.random.default_rng(0)
    fields = []
    for _ in range(4):
        field = np.full((1, 128, 128), 200.0) + rng.normal(0, 3, (1, 128, 128))
        for y, x in rng.integers([8, 8], [120, 40], size=(12, 2)):
            yy, xx = np.ogrid[:128, :128]
            field[0][(yy - y) ** 2 + (xx - x) ** 2 < 36] = 3000.0
        fields.append(field)
    accumulator = IlluminationAccumulator()
    for field in fields:
        accumulator.add(field)
    function = illumination_function(accumulator.mean(), "polynomial", degree=2)
    corrected = np.stack([correct_illumination(f, function) for f in fields])
    background = corrected[:, 0, :, 64:]  # the right two thirds: no cells
    assert function.min() == 1.0 and background.max() <= 200.0 + 5 * 3
    assert function_range(function)[0] > 3.0  # reported as extreme (preprocess.max_illumination_range)


def test_gaussian_smoothing_averages_only_pixels_inside_the_field() -> None:
    """CellProfiler's masked smoothing: a flat field stays flat up to its borders (no zero bleed),
    and a ramp is kept exactly (a symmetric kernel over the pixels inside)."""
    from cell_dino.ingest.illumination import gaussian_inside

    flat = np.full((1, 40, 50), 7.0)
    np.testing.assert_allclose(gaussian_inside(flat, 20.0), 7.0, rtol=1e-9)
    ramp = np.broadcast_to(np.arange(50.0), (1, 40, 50))
    smooth = gaussian_inside(ramp, 3.0)
    np.testing.assert_allclose(smooth[0, 20, 13:37], np.arange(13.0, 37.0), atol=1e-6)  # beyond the kernel (4 sigma) of the edges
    assert smooth[0, 20, 0] > 0.5  # at the edge: the mean of the pixels inside (a plain zero pad would pull it towards 0)


@pytest.mark.parametrize(("shape", "sigma"), [((3, 40, 50), 3.0), ((2, 64, 80), 20.0), ((1, 60, 90), 136.17), ((2, 3, 5), 0.3), ((1, 4, 7), 0.0)])
def test_the_fft_gaussian_equals_scipys_zero_padded_filter(shape: tuple[int, int, int], sigma: float) -> None:
    """The FFT route equals ``scipy.ndimage.gaussian_filter(mode="constant")`` plane by plane, a
    kernel wider than the field (the BBBC021 recipe's sigma) included."""
    from cell_dino.ingest.illumination import zero_padded_gaussian

    planes = np.random.default_rng(0).uniform(0, 4000, shape)
    reference = np.stack([ndimage.gaussian_filter(plane, sigma, mode="constant", cval=0.0) for plane in planes])
    np.testing.assert_allclose(zero_padded_gaussian(planes, sigma), reference, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("sigma", [-1.0, float("nan")])
def test_a_negative_or_missing_sigma_is_refused_naming_it(sigma: float) -> None:
    from cell_dino.ingest.illumination import zero_padded_gaussian

    with pytest.raises(ValueError, match="smoothing_sigma"):
        zero_padded_gaussian(np.ones((4, 4)), sigma)

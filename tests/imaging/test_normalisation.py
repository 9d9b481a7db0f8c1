import numpy as np

from cell_dino.imaging.normalisation import ChannelStatsAccumulator, downscale


def test_streaming_stats_match_numpy_on_the_concatenation() -> None:
    rng = np.random.default_rng(0)
    fields = [rng.gamma(2.0, 500.0, (2, 30, 40)).astype(np.float32) for _ in range(7)]
    accumulator = ChannelStatsAccumulator(["DNA", "Actin"], upper=65535.0)
    for field in fields:
        accumulator.add(field)
    stats = accumulator.result()
    pixels = np.concatenate([f.reshape(2, -1) for f in fields], axis=1).astype(np.float64)
    np.testing.assert_allclose(stats.mean, pixels.mean(axis=1), rtol=1e-10)
    np.testing.assert_allclose(stats.std, pixels.std(axis=1), rtol=1e-8)
    bin_width = 65535.0 / 65536
    for name, q in (("p01", 1), ("p50", 50), ("p99", 99), ("p999", 99.9)):
        np.testing.assert_allclose(getattr(stats, name), np.percentile(pixels, q, axis=1, method="inverted_cdf"), atol=bin_width)
    assert stats.n_pixels == 7 * 30 * 40


def test_downscale_is_a_block_mean_and_drops_trailing_pixels() -> None:
    field = np.arange(2 * 5 * 7, dtype=np.float32).reshape(2, 5, 7)
    half = downscale(field, 2)
    assert half.shape == (2, 2, 3)
    assert half[1, 0, 0] == field[1, :2, :2].mean()
    assert downscale(field, 1) is field

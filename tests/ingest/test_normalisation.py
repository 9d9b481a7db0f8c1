import numpy as np
import pytest

from cell_dino.ingest.normalisation import ChannelStatsAccumulator, downscale, resize_field


def test_streaming_stats_match_numpy_on_the_concatenation() -> None:
    """Fewer pixels than the reservoir holds: percentiles are exact."""
    rng = np.random.default_rng(0)
    fields = [rng.gamma(2.0, 500.0, (2, 30, 40)).astype(np.float32) for _ in range(7)]
    accumulator = ChannelStatsAccumulator(["DNA", "Actin"])
    for field in fields:
        accumulator.add(field)
    stats = accumulator.result()
    pixels = np.concatenate([f.reshape(2, -1) for f in fields], axis=1).astype(np.float64)
    np.testing.assert_allclose(stats.mean, pixels.mean(axis=1), rtol=1e-10)
    np.testing.assert_allclose(stats.std, pixels.std(axis=1), rtol=1e-8)
    for name, q in (("p01", 1), ("p50", 50), ("p99", 99), ("p999", 99.9)):
        np.testing.assert_allclose(getattr(stats, name), np.percentile(pixels, q, axis=1, method="inverted_cdf"), rtol=1e-6)
    assert stats.n_pixels == 7 * 30 * 40


def test_percentiles_hold_for_floats_in_the_unit_interval_and_past_16_bits(monkeypatch) -> None:
    """A fixed 0-65535 histogram put every percentile of [0, 1] data in its first bin (1.0) and
    clipped 32-bit data at 65535; a sampled reservoir holds any range."""
    import cell_dino.ingest.normalisation as normalisation

    monkeypatch.setattr(normalisation, "RESERVOIR", 5000)  # far fewer than the pixels: sampled
    rng = np.random.default_rng(1)
    for scale in (1.0, 1e6):
        accumulator = ChannelStatsAccumulator(["Protein"], seed=2)
        fields = [rng.random((1, 100, 100)).astype(np.float32) * scale for _ in range(5)]
        for field in fields:
            accumulator.add(field)
        stats = accumulator.result()
        for name, q in (("p01", 0.01), ("p50", 0.5), ("p99", 0.99)):  # uniform: the quantile is q * scale
            assert abs(getattr(stats, name)[0] / scale - q) < 0.02, (scale, name, getattr(stats, name))


def test_resizing_a_field_is_bicubic_and_never_overshoots_below_its_minimum() -> None:
    field = np.zeros((1, 40, 60), np.float32)
    field[0, 10:30, 20:40] = 1000.0
    resized = resize_field(field, (20, 30))
    assert resized.shape == (1, 20, 30) and resized.dtype == np.float32
    assert resized.min() >= 0.0 and abs(resized.mean() - field.mean()) < 0.05 * field.mean()
    assert resize_field(field, (40, 60)) is field


def test_downscale_is_a_block_mean_and_drops_trailing_pixels() -> None:
    field = np.arange(2 * 5 * 7, dtype=np.float32).reshape(2, 5, 7)
    half = downscale(field, 2)
    assert half.shape == (2, 2, 3)
    assert half[1, 0, 0] == field[1, :2, :2].mean()
    assert downscale(field, 1) is field


def test_merged_shards_give_the_statistics_of_one_pass(monkeypatch) -> None:
    """Shards' accumulators merged (ingest's plates, in any number of workers): the sums exactly; the
    reservoir a sample of both sides in proportion to their pixels, so a shard of bright fields keeps
    its share of the percentiles."""
    import cell_dino.ingest.normalisation as normalisation

    monkeypatch.setattr(normalisation, "RESERVOIR", 4000)
    rng = np.random.default_rng(3)
    dim = [rng.random((1, 60, 60)).astype(np.float32) for _ in range(3)]  # 10,800 pixels in [0, 1)
    bright = [1 + rng.random((1, 60, 60)).astype(np.float32) for _ in range(1)]  # 3,600 pixels in [1, 2)
    shards = []
    for seed, fields in enumerate((dim, bright)):
        shard = ChannelStatsAccumulator(["DNA"], seed=seed)
        for field in fields:
            shard.add(field)
        shards.append(shard)
    merged = ChannelStatsAccumulator(["DNA"])
    for shard in shards:
        merged.merge(shard)
    pixels = np.concatenate([f.ravel() for f in dim + bright]).astype(np.float64)
    stats = merged.result()
    assert stats.n_pixels == pixels.size and merged.reservoir.shape == (1, 4000)
    np.testing.assert_allclose(stats.mean, [pixels.mean()], rtol=1e-10)
    np.testing.assert_allclose(stats.std, [pixels.std()], rtol=1e-8)
    assert abs(np.mean(merged.reservoir >= 1) - 0.25) < 0.01  # the bright shard's quarter of the pixels
    assert abs(stats.p50[0] - np.percentile(pixels, 50)) < 0.03
    empty = ChannelStatsAccumulator(["DNA"])
    empty.merge(ChannelStatsAccumulator(["DNA"]))
    assert empty.n == 0
    with pytest.raises(ValueError, match=r"\['Actin'\] cannot join those of \['DNA'\]"):
        merged.merge(ChannelStatsAccumulator(["Actin"]))

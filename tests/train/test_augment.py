"""Batched augmentations: geometry against direct expectations, intensity steps, determinism."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from cell_dino.train.augment import AugmentConfig, CropSpec, augment_intensity, multicrop

OFF = AugmentConfig(
    global_crops=CropSpec(2, 16, (1.0, 1.0)),
    local_crops=CropSpec(3, 8, (0.25, 0.25)),
    ratio=(1.0, 1.0),
    flip_p=0.0,
    rotate90=False,
    brightness_p=0.0,
    contrast_p=0.0,
    channel_drop_p=0.0,
    warp="none",
    normalise="dataset",
)
IDENTITY_STATS = (torch.zeros(3), torch.ones(3))
CHANNELS = ("DNA", "Tubulin", "Actin")


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_full_scale_crop_without_augmentation_is_the_image() -> None:
    x = torch.rand(4, 3, 16, 16)
    crops = multicrop(x, x, OFF, CHANNELS, gen(), IDENTITY_STATS)
    assert [tuple(c.shape) for c in crops] == [(4, 3, 16, 16)] * 2 + [(4, 3, 8, 8)] * 3
    torch.testing.assert_close(crops[0], x, atol=1e-5, rtol=0)


def test_quarter_area_crop_spans_half_the_ramp() -> None:
    ramp = torch.linspace(-1, 1, 64).expand(2, 3, 64, 64).contiguous()
    local = multicrop(ramp, ramp, OFF, CHANNELS, gen(), IDENTITY_STATS)[2]
    spans = local[:, 0].amax(dim=(1, 2)) - local[:, 0].amin(dim=(1, 2))
    torch.testing.assert_close(spans, torch.full((2,), 1.0 * 7 / 8), atol=0.02, rtol=0)


def test_flips_and_rotations_are_dihedral_transforms() -> None:
    x = torch.arange(16.0).view(1, 1, 4, 4).expand(32, 3, 4, 4).contiguous()
    config = dataclasses.replace(OFF, global_crops=CropSpec(1, 4, (1.0, 1.0)), flip_p=0.5, rotate90=True)
    out = multicrop(x, x, config, CHANNELS, gen(1), IDENTITY_STATS)[0][:, 0]
    base = x[0, 0]
    dihedral = [torch.rot90(t, k) for t in (base, base.flip(-1)) for k in range(4)]
    seen = set()
    for image in out:
        matches = [i for i, d in enumerate(dihedral) if torch.allclose(image, d, atol=1e-4)]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) >= 6  # flips and all four rotations occur


def test_channel_drop_only_drops_allowed_channels() -> None:
    x = torch.rand(64, 3, 8, 8) + 1.0
    config = dataclasses.replace(OFF, channel_drop_p=1.0, droppable_channels=("Actin",))
    out = augment_intensity(x, config, CHANNELS, gen(), IDENTITY_STATS)
    assert torch.all(out[:, 2] == 0) and torch.all(out[:, :2] > 0)


def test_brightness_and_contrast_are_per_channel_and_self_normalisation_standardises() -> None:
    x = torch.rand(16, 3, 8, 8)
    config = dataclasses.replace(OFF, brightness_p=1.0, contrast_p=1.0, brightness=0.5, contrast=0.5)
    out = augment_intensity(x.clone(), config, CHANNELS, gen(), IDENTITY_STATS)
    mean_shift = (out - x).mean(dim=(2, 3))
    assert mean_shift.std(dim=1).min() > 0  # channels shifted differently
    normed = augment_intensity(x.clone(), dataclasses.replace(config, normalise="self"), CHANNELS, gen())
    torch.testing.assert_close(normed.mean(dim=(2, 3)), torch.zeros(16, 3), atol=1e-5, rtol=0)
    torch.testing.assert_close(normed.std(dim=(2, 3)), torch.ones(16, 3), atol=1e-4, rtol=0)


def test_rescale_multiplies_the_chosen_channel_only() -> None:
    x = torch.ones(32, 3, 4, 4)
    config = dataclasses.replace(OFF, rescale_p=1.0, rescale_channel="Tubulin", rescale_range=(2.0, 3.0))
    out = augment_intensity(x.clone(), config, CHANNELS, gen(), IDENTITY_STATS)
    assert torch.all(out[:, 1] >= 2.0) and torch.all(out[:, 1] <= 3.0) and torch.all(out[:, [0, 2]] == 1.0)


def test_weak_label_views_take_local_crops_from_the_other_image() -> None:
    first, second = torch.zeros(2, 3, 16, 16), torch.full((2, 3, 16, 16), 5.0)
    crops = multicrop(first, second, dataclasses.replace(OFF, warp="elastic", warp_p=1.0), CHANNELS, gen(), IDENTITY_STATS)
    assert all(torch.all(c == 0) for c in crops[:2])
    assert all(torch.allclose(c[:, :, 2:-2, 2:-2], torch.full_like(c[:, :, 2:-2, 2:-2], 5.0)) for c in crops[2:])


def test_same_seed_same_crops_any_channel_count() -> None:
    x = torch.rand(3, 5, 24, 24)
    config = dataclasses.replace(AugmentConfig(), global_crops=CropSpec(2, 16, (0.4, 1.0)), local_crops=CropSpec(4, 8, (0.05, 0.4)))
    names = ("a", "b", "c", "d", "e")
    first, again = multicrop(x, x, config, names, gen(7)), multicrop(x, x, config, names, gen(7))
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not torch.equal(first[0], multicrop(x, x, config, names, gen(8))[0])


def test_dataset_normalisation_refuses_a_channel_without_spread() -> None:
    """A failed stain gave std 0: ``normalise: dataset`` divided by it and the loss became NaN."""
    from cell_dino.encoders.preprocessing import dataset_statistics

    mean, std = dataset_statistics({"channels": ["DNA", "Actin"], "mean": [10.0, 5.0], "std": [2.0, 1.0]})
    assert std.tolist() == [2.0, 1.0] and mean.dtype == torch.float32
    with pytest.raises(ValueError, match=r"channel\(s\) \['Actin'\] have no spread \(std 0\)"):
        dataset_statistics({"channels": ["DNA", "Actin"], "mean": [10.0, 0.0], "std": [2.0, 0.0]})


def test_vertical_and_horizontal_flips_alone_give_the_four_flips() -> None:
    x = torch.arange(16.0).view(1, 1, 4, 4).expand(64, 3, 4, 4).contiguous()
    config = dataclasses.replace(OFF, global_crops=CropSpec(1, 4, (1.0, 1.0)), flip_p=0.5, vflip_p=0.5)
    out = multicrop(x, x, config, CHANNELS, gen(3), IDENTITY_STATS)[0][:, 0]
    base = x[0, 0]
    flips = [base, base.flip(-1), base.flip(-2), base.flip(-1).flip(-2)]
    seen = [next(i for i, f in enumerate(flips) if torch.allclose(image, f, atol=1e-4)) for image in out]
    assert set(seen) == {0, 1, 2, 3}  # no rotation by 90 degrees ever (it would match none)


def test_crop_aspect_ratio_is_sampled_in_pixels_on_a_wide_field() -> None:
    # a 64 x 80 field (W / H = 1.25); ratio 1 and a quarter of the area: a square of sqrt(64 * 80 / 4) px
    h, w = 64, 80
    ramp_x = torch.arange(w, dtype=torch.float32).expand(2, 3, h, w).contiguous()
    ramp_y = torch.arange(h, dtype=torch.float32)[:, None].expand(2, 3, h, w).contiguous()
    config = dataclasses.replace(OFF, global_crops=CropSpec(1, 32, (0.25, 0.25)))
    side = (h * w / 4) ** 0.5
    for ramp in (ramp_x, ramp_y):
        crop = multicrop(ramp, ramp, config, CHANNELS, gen(), IDENTITY_STATS)[0][:, 0]
        spans = crop.amax(dim=(1, 2)) - crop.amin(dim=(1, 2))
        torch.testing.assert_close(spans, torch.full((2,), side * 31 / 32), atol=0.3, rtol=0)


def test_normalise_none_leaves_stored_normalised_fields_as_they_are() -> None:
    x = torch.randn(2, 3, 16, 16) * 5 + 3
    crops = multicrop(x, x, dataclasses.replace(OFF, normalise="none"), CHANNELS, gen())
    torch.testing.assert_close(crops[0], x, atol=1e-4, rtol=0)

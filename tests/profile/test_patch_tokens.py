import numpy as np
import pandas as pd
import pytest
import torch

from cell_dino.profile import patch_tokens
from cell_dino.profile.patch_tokens import (
    balanced_items,
    discriminative_tokens,
    other_item_neighbours,
    patch_region_fractions,
    reference_vs_rest,
    region_shares,
)


def test_region_fractions_of_each_patch_by_hand() -> None:
    masks = np.zeros((1, 2, 4, 4), bool)
    masks[0, 1, :3, :] = True  # cell: top three rows
    masks[0, 0, :2, :1] = True  # nucleus: two pixels of the top-left patch
    fractions = patch_region_fractions(masks, (2, 2))[0]
    assert fractions[0, 0].tolist() == [0.5, 0.5, 0.0]  # 2 nucleus + 2 cytoplasm pixels
    assert fractions[0, 1].tolist() == [0.0, 1.0, 0.0]
    assert fractions[1, 0].tolist() == [0.0, 0.5, 0.5]


def test_balanced_items_take_the_smaller_groups_size_from_each() -> None:
    groups = np.array(["a"] * 3 + ["b"] * 10)
    chosen = balanced_items(groups, seed=0)
    assert (groups[chosen] == "a").sum() == 3 and (groups[chosen] == "b").sum() == 3
    capped = balanced_items(groups, seed=0, most=2)
    assert (groups[capped] == "a").sum() == 2 and (groups[capped] == "b").sum() == 2


def test_a_token_budget_caps_the_items_of_each_group() -> None:
    rng = np.random.default_rng(0)
    items = pd.DataFrame({"Metadata_MoA": ["DMSO"] * 10 + ["taxol"] * 14})
    tokens, masks = rng.normal(size=(24, 4, 4, 8)), np.ones((24, 2, 8, 8), bool)
    args = (items, tokens, masks, "Metadata_MoA", "DMSO", None, 3, 4)
    assert reference_vs_rest(*args, max_tokens=10**6)[2] == 10  # the smaller group's size
    assert reference_vs_rest(*args, max_tokens=80)[2] == 5  # 80 tokens of 16 per item
    assert reference_vs_rest(*args, max_tokens=1)[2] == 2  # never fewer than 2


def test_tokens_that_tell_the_groups_apart_are_found_in_the_nucleus() -> None:
    # 24 cells, 4 x 4 tokens; the 2 x 2 centre is the nucleus. Nuclear tokens carry a group-specific
    # direction; all other tokens are noise from one distribution for both groups.
    rng = np.random.default_rng(0)
    n, d = 24, 16
    groups = np.array(["DMSO", "treated"] * (n // 2))
    tokens = rng.normal(0, 1, (n, 4, 4, d))
    direction = {"DMSO": np.eye(d)[0] * 6, "treated": np.eye(d)[1] * 6}
    for i, g in enumerate(groups):
        tokens[i, 1:3, 1:3] += direction[g]
    masks = np.zeros((n, 2, 16, 16), bool)
    masks[:, 1, 2:14, 2:14] = True
    masks[:, 0, 4:12, 4:12] = True
    selected = discriminative_tokens(tokens, groups, k=5, n_components=8)
    shares = region_shares(selected, patch_region_fractions(masks, (4, 4)), groups).set_index("group")
    assert selected[:, 1:3, 1:3].mean() > 0.9
    assert shares.loc["treated", "share_nucleus"] > 0.8
    assert shares.loc["treated", "baseline_nucleus"] == pytest.approx(4 / 16)


def test_needs_exactly_two_groups() -> None:
    with pytest.raises(ValueError, match="two groups"):
        discriminative_tokens(np.zeros((3, 2, 2, 4)), np.array(["a", "b", "c"]))


@pytest.mark.parametrize("block_elements", [7, 420, 2**24])  # one row, 7 rows (blocks across items), every row at once
def test_neighbours_among_other_items_equal_brute_force(monkeypatch: pytest.MonkeyPatch, block_elements: int) -> None:
    rng = np.random.default_rng(1)
    unit = rng.normal(size=(60, 5)).astype(np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    owner = np.repeat(np.arange(6), 10)  # 6 items of 10 tokens
    monkeypatch.setattr(patch_tokens, "BLOCK_ELEMENTS", block_elements)
    found = other_item_neighbours(torch.from_numpy(unit), 10, k=4)
    for i in range(60):
        others = np.flatnonzero(owner != owner[i])
        expected = others[np.argsort(-(unit[others] @ unit[i]), kind="stable")[:4]]
        assert found[i].tolist() == expected.tolist()

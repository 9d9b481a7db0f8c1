"""mAP through copairs against hand-computed average precisions; no cache in the home folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cell_dino.evaluation.retrieval import phenotypic_activity, phenotypic_consistency

UNIT = {"q": (1.0, 0.0), "p": (0.6, 0.8), "n1": (0.9, 0.4359), "n2": (0.0, 1.0), "n3": (-1.0, 0.0)}


@pytest.fixture(autouse=True)
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    return home


def _frame(names: list[str], **meta: list) -> pd.DataFrame:
    x = np.array([UNIT[n] for n in names])
    return pd.DataFrame({**meta, "f0": x[:, 0], "f1": x[:, 1]})


def test_phenotypic_activity_by_hand(empty_home: Path) -> None:
    profiles = _frame(["q", "p", "n1", "n2", "n3"], Metadata_Treatment=["t", "t", "DMSO", "DMSO", "DMSO"],
                      Metadata_Control=[False, False, True, True, True])  # fmt: skip
    result = phenotypic_activity(profiles, null_size=2000, seed=0)
    # q ranks: n1 (0.90), p (0.60), ... -> AP 1/2; p ranks: n1 (0.889), n2 (0.80), q (0.60) -> AP 1/3
    assert result["Metadata_Treatment"].tolist() == ["t"]
    assert result["mean_average_precision"].iloc[0] == pytest.approx(5 / 12)
    assert 0 < result["p_value"].iloc[0] <= 1
    assert not any(empty_home.rglob("*")), "copairs wrote under the home folder"


def test_phenotypic_consistency_by_hand() -> None:
    profiles = _frame(["q", "p", "n1", "n2"], Metadata_Compound=list("abcd"), Metadata_MoA=["X", "X", "Y", "Y"])
    result = phenotypic_consistency(profiles, null_size=2000, seed=0).set_index("Metadata_MoA")
    # X: a -> c, b, d (AP 1/2); b -> c, d, a (AP 1/3). Y: c -> a, b, d (AP 1/3); d -> b, c (AP 1/2)
    assert result["mean_average_precision"].to_dict() == pytest.approx({"X": 5 / 12, "Y": 5 / 12})


def test_strong_replicates_are_active_and_noise_is_not() -> None:
    rng = np.random.default_rng(0)
    controls = rng.normal(size=(30, 16))
    strong = rng.normal(size=16) * 3 + rng.normal(size=(4, 16)) * 0.3
    noise = rng.normal(size=(4, 16))
    x = np.vstack([controls, strong, noise])
    meta = {"Metadata_Treatment": ["DMSO"] * 30 + ["strong"] * 4 + ["noise"] * 4, "Metadata_Control": [True] * 30 + [False] * 8}
    profiles = pd.concat([pd.DataFrame(meta), pd.DataFrame(x, columns=[f"f{j}" for j in range(16)])], axis=1)
    result = phenotypic_activity(profiles, null_size=5000, seed=0).set_index("Metadata_Treatment")
    assert result.loc["strong", "mean_average_precision"] == 1.0 and result.loc["strong", "below_corrected_p"]
    assert result.loc["noise", "mean_average_precision"] < 0.5 and not result.loc["noise", "below_corrected_p"]


def test_blocked_path_for_large_tables_matches_copairs() -> None:
    rng = np.random.default_rng(4)
    n = 300
    treatment = np.where(np.arange(n) % 10 == 0, "DMSO", (np.arange(n) // 4).astype(str))
    x = rng.normal(size=(n, 12)) + (np.arange(n) // 4 % 7)[:, None] * 0.3
    profiles = pd.concat([pd.DataFrame({"Metadata_Treatment": treatment, "Metadata_Control": treatment == "DMSO"}),
                          pd.DataFrame(x).add_prefix("f")], axis=1)  # fmt: skip
    copairs = phenotypic_activity(profiles, null_size=500, seed=0)
    blocked = phenotypic_activity(profiles, null_size=500, seed=0, direct_max=100)
    pd.testing.assert_frame_equal(blocked.drop(columns="indices"), copairs.drop(columns="indices"), check_exact=False, rtol=1e-5)

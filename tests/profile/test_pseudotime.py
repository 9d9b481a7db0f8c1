import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from cell_dino.core.undefined import Undefined
from cell_dino.profile.pseudotime import diffusion_pseudotime, pseudotime_table


def trajectory(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Cells along a curved 1-d trajectory in 20 dimensions, with noise; t is their true time."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 1, n))
    curve = np.stack([np.cos(np.pi * t), np.sin(np.pi * t), t**2, np.sin(3 * t)], axis=1) * 5
    x = curve @ rng.normal(size=(4, 20)) + 0.2 * rng.normal(size=(n, 20))
    return x, t


def test_pseudotime_recovers_a_planted_trajectory_from_its_start_group() -> None:
    """scanpy's DPT orders the cells as the former hand-written DPT did (Spearman 1.000 between
    the two, largest difference 3e-6, measured when it was replaced) and as the planted time."""
    x, t = trajectory()
    dpt = diffusion_pseudotime(x, in_root=t < 0.1, n_neighbors=15, n_components=8)
    assert t[dpt.root] < 0.1 and dpt.time[dpt.root] == 0.0 and dpt.time.max() == pytest.approx(1.0)
    assert spearmanr(dpt.time, t).statistic > 0.99
    assert dpt.eigenvalues[0] == pytest.approx(1.0, abs=1e-6) and dpt.components.shape == (400, 7)
    assert np.all(np.diff(dpt.eigenvalues) <= 1e-6)


def test_root_from_the_other_end_reverses_the_ordering() -> None:
    x, t = trajectory()
    assert spearmanr(diffusion_pseudotime(x, in_root=t > 0.9).time, t).statistic < -0.95


def test_cells_the_root_cannot_reach_have_no_pseudotime() -> None:
    x, t = trajectory(400)
    far = np.arange(len(x)) % 2 == 1  # every other cell moved far away: two copies of the trajectory
    x[far] += 1000.0
    dpt = diffusion_pseudotime(x, in_root=(t < 0.1) & ~far, n_neighbors=10, n_components=12)
    assert np.isinf(dpt.time[far]).all() and np.isfinite(dpt.time[~far]).all()
    assert spearmanr(dpt.time[~far], t[~far]).statistic > 0.95
    assert (dpt.eigenvalues > 1 - 1e-6).sum() == 2  # one stationary state per component


def test_identical_items_have_no_pseudotime() -> None:
    """60 identical items (a collapsed model) were ordered from 0 to 1 by floating-point noise."""
    items = pd.DataFrame(np.ones((60, 8)), columns=[f"f{i}" for i in range(8)]).assign(Metadata_MoA=np.repeat(["DMSO", "A", "B"], 20))
    with pytest.raises(Undefined, match="features do not vary"):
        pseudotime_table(items, "Metadata_MoA", "DMSO", [], n_pcs=4, n_neighbors=10, n_components=5, max_cells=100)


def test_sixteen_fields_give_one_diffusion_component_and_a_figure_of_it_against_pseudotime() -> None:
    """16 whole fields (the test run's WS-DINO profiles) left scanpy's diffusion map one component
    with a positive eigenvalue; the figure asked for a second and the profile pipeline failed."""
    from cell_dino.profile.profile_figures import pseudotime_figure

    rng = np.random.default_rng(0)
    items = pd.DataFrame(rng.normal(size=(16, 15)), columns=[f"f{i}" for i in range(15)]).assign(Metadata_MoA=["DMSO"] * 8 + ["A"] * 8)
    cells = pseudotime_table(items, "Metadata_MoA", "DMSO", [], n_pcs=15, n_neighbors=8, n_components=6, max_cells=100)
    components = [c for c in cells.columns if c.startswith("dc_")]
    assert cells["pseudotime"].between(0, 1).all() and len(components) >= 1
    figure = pseudotime_figure(cells.drop(columns=components[1:]), "Metadata_MoA")
    assert figure.layout.xaxis.title.text == "dc_1" and figure.layout.yaxis.title.text == "pseudotime"

"""CellProfiler features (cp-measure) of hand-made fields: values against hand-computed ones,
CellProfiler's column names, the job's row order, feature selection and resumes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cell_dino.data.errors import DataError
from cell_dino.embed import cellprofiler_job as job_module
from cell_dino.embed.artifacts import REPORT, read_embeddings
from cell_dino.embed.cellprofiler import CellProfilerConfig, cellprofiler_name, measure_field, measure_stored_field
from cell_dino.embed.cellprofiler_job import CellProfilerJob, cellprofiler_job

CHANNELS = ["DNA", "Tubulin", "Actin"]


def field(values: tuple[float, float], nucleus_of_second: bool = True, shape=(40, 60)) -> tuple[np.ndarray, np.ndarray]:
    """Two square cells (12 x 12 at (4, 4), 10 x 10 at (20, 30)) of uniform intensity ``values``
    in every channel, each with a 4 x 4 nucleus (the second's optional)."""
    image, masks = np.full((3, *shape), 100.0, np.float32), np.zeros((2, *shape), np.uint16)
    for label, (y, x, side), value in zip((1, 2), ((4, 4, 12), (20, 30, 10)), values):
        image[:, y : y + side, x : x + side] = value
        masks[1, y : y + side, x : x + side] = label
        if label == 1 or nucleus_of_second:
            masks[0, y + 2 : y + 6, x + 2 : x + 6] = label
    return image, masks


def test_features_of_a_field_equal_hand_computed_areas_and_intensities():
    image, masks = field((6553.5, 13107.0), nucleus_of_second=False)
    features = measure_field(image, masks, CHANNELS, CellProfilerConfig()).set_index("label")
    assert features.index.tolist() == [1, 2]
    assert features["Cells_AreaShape_Area"].tolist() == [144, 100]
    assert features["Nuclei_AreaShape_Area"].iloc[0] == 16
    assert np.isnan(features["Nuclei_AreaShape_Area"].iloc[1])  # the second cell has no nucleus
    # pixels are divided by the source's full scale (65,535) as CellProfiler loads 16-bit images
    assert features["Cells_Intensity_MeanIntensity_DNA"].to_numpy() == pytest.approx([0.1, 0.2])
    assert features["Cells_Intensity_IntegratedIntensity_Actin"].to_numpy() == pytest.approx([14.4, 20.0])
    assert not [c for c in features.columns if "Location_" in c or "BoundingBoxMinimum" in c or "SpatialMoment" in c]
    assert {c.split("_")[1] for c in features.columns} >= {
        "AreaShape",
        "Intensity",
        "Texture",
        "Granularity",
        "RadialDistribution",
        "Correlation",
    }


def test_names_are_cellprofilers():
    assert cellprofiler_name("Cells", "texture", "Contrast_3_00_256__DNA") == "Cells_Texture_Contrast_3_00_256_DNA"
    assert cellprofiler_name("Nuclei", "sizeshape", "Area") == "Nuclei_AreaShape_Area"
    assert cellprofiler_name("Cells", "intensity", "Intensity_MeanIntensity__ER") == "Cells_Intensity_MeanIntensity_ER"
    assert cellprofiler_name("Cells", "correlation_pearson", "Correlation_Pearson__DNA__ER") == "Cells_Correlation_Correlation_DNA_ER"


def test_a_field_without_cells_has_no_rows():
    image, masks = field((1000.0, 2000.0))
    assert measure_field(image, np.zeros_like(masks), CHANNELS, CellProfilerConfig()).empty


def cells_of(masks: np.ndarray) -> pd.DataFrame:
    """A crop-store cell table: one row per (field, cell label), with metadata."""
    rows = [
        {"Metadata_FOV": f"P1/B0{i}/s1", "Metadata_Well": f"B0{i}", "Metadata_Compound": f"c{i % 2}", "fov_index": i, "label": int(label)}
        for i in range(len(masks))
        for label in np.unique(masks[i, 1])
        if label
    ]
    return pd.DataFrame(rows)


def job_inputs(n_fields: int = 5) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(0)
    fields = [field(tuple(rng.uniform(1000, 9000, 2))) for _ in range(n_fields)]
    images, masks = np.stack([f[0] for f in fields]), np.stack([f[1] for f in fields])
    return images, masks, cells_of(masks)


def test_the_job_measures_every_cell_in_the_stores_order_and_selects_features(tmp_path):
    images, masks, cells = job_inputs()
    config = CellProfilerConfig(groups=("intensity", "sizeshape"), fields_per_shard=2)
    CellProfilerJob(images, masks, cells, CHANNELS, config, {"store": "g1"}).run(tmp_path / "cp")
    table = read_embeddings(tmp_path / "cp")
    assert table["Metadata_Index"].tolist() == list(range(len(cells)))
    assert table["Metadata_FOV"].tolist() == cells["Metadata_FOV"].tolist()
    # every cell has the same shape in every field: area is constant and dropped (variance threshold);
    # mean intensity varies and is kept, one of the three identical channels' copies at most (correlation)
    assert "Cells_AreaShape_Area" not in table.columns
    kept_means = [c for c in table.columns if c.startswith("Cells_Intensity_MeanIntensity_")]
    assert len(kept_means) == 1
    expected = np.concatenate([np.unique(images[i, 0][masks[i, 1] > 0]) for i in range(len(images))]) / 65535
    assert np.sort(table[kept_means[0]].to_numpy()) == pytest.approx(np.sort(expected), rel=1e-5)
    record = json.loads((tmp_path / "cp" / REPORT).read_text())
    assert record["n_items"] == len(cells) and record["n_features_kept"] < record["n_features_measured"]
    assert not (tmp_path / ".cp.parts").exists()


def test_a_failed_run_resumes_from_its_finished_shards(tmp_path, monkeypatch):
    images, masks, cells = job_inputs()
    config = CellProfilerConfig(groups=("intensity",), fields_per_shard=2)
    measured = []

    def failing(images_, masks_, index, channels, config_):
        if len(measured) == 4:
            raise RuntimeError("node lost")
        measured.append(1)
        return measure_stored_field(images_, masks_, index, channels, config_)

    monkeypatch.setattr(job_module, "measure_stored_field", failing)
    with pytest.raises(RuntimeError, match="node lost"):
        CellProfilerJob(images, masks, cells, CHANNELS, config, {"store": "g1"}).run(tmp_path / "cp")
    assert not (tmp_path / "cp").exists()  # nothing half-published
    monkeypatch.setattr(job_module, "measure_stored_field", measure_stored_field)
    job = CellProfilerJob(images, masks, cells, CHANNELS, config, {"store": "g1"})
    job.run(tmp_path / "cp")
    assert job.report["n_measured_now"] == 1  # the first two shards (4 fields) were kept
    assert len(read_embeddings(tmp_path / "cp")) == len(cells)


def test_bad_inputs_are_refused_naming_the_field_or_cell(tmp_path):
    images, masks, cells = job_inputs(3)
    config = CellProfilerConfig(groups=("intensity",), fields_per_shard=2)
    nan = images.copy()
    nan[1, 0, 5, 5] = np.nan  # cp-measure would segfault or hang on it
    with pytest.raises(DataError, match=r"field 1 \['P1/B01/s1'\] has non-finite pixels"):
        CellProfilerJob(nan, masks, cells, CHANNELS, config, {}).run(tmp_path / "nan")
    ghost = pd.concat([cells, cells.tail(1).assign(label=99)], ignore_index=True)
    with pytest.raises(DataError, match=r"1 cell\(s\) of the table have no label in their field's mask: \(field, label\) \[\(2, 99\)\]"):
        CellProfilerJob(images, masks, ghost, CHANNELS, config, {}).run(tmp_path / "ghost")
    with pytest.raises(DataError, match=r"row\(s\) \[0\] name fields beyond the 3 stored"):
        CellProfilerJob(images, masks, cells.assign(fov_index=cells["fov_index"].where(cells.index > 0, 7)), CHANNELS, config, {})
    single = np.where(masks[:1] == 2, 0, masks[:1])  # one cell in one field
    with pytest.raises(DataError, match=r"feature selection .* failed on 1 cell\(s\).*selection: \[\] keeps every feature"):
        CellProfilerJob(images[:1], single, cells_of(single), CHANNELS, config, {}).run(tmp_path / "one")
    assert not [p for p in tmp_path.iterdir() if not p.name.startswith(".")]  # nothing published


def test_fields_without_cells_or_nuclei_first_keep_every_feature(tmp_path):
    images, masks, cells = job_inputs(4)
    masks[:2] = 0  # the first shard has no cells
    masks[2, 0] = 0  # nor has field 2 any nucleus
    cells = cells_of(masks)
    for selection in ((), ("variance_threshold",)):
        config = CellProfilerConfig(groups=("intensity", "sizeshape"), fields_per_shard=2, selection=selection)
        CellProfilerJob(images, masks, cells, CHANNELS, config, {}).run(tmp_path / str(len(selection)))
        table = read_embeddings(tmp_path / str(len(selection)))
        assert len(table) == len(cells) == 4 and "Cells_AreaShape_Area" in table.columns or selection
        assert table.filter(like="Nuclei_").iloc[:2].isna().all().all()  # field 2's cells have no nucleus
    assert read_embeddings(tmp_path / "0").attrs["embedding"]["n_features_kept"] > 100


def test_per_image_zscored_fields_get_shape_features_only():
    class Store:
        attrs = {"preprocess": {"per_image_zscore": True}}
        path, generation, images = "fov_store.zarr", "g", np.zeros((1, 3, 40, 60), np.float32)
        masks, channels = field((1.0, 2.0))[1][None], type("Spec", (), {"names": tuple(CHANNELS)})()

        def table(self):
            return cells_of(self.masks)

    job = cellprofiler_job(Store(), Store(), CellProfilerConfig(), 0)
    assert job.config.groups == ("sizeshape",)
    assert set(job.report["skipped_groups"]) == {"intensity", "texture", "granularity", "radial_distribution", "correlation_pearson"}
    assert "per_image_zscore" in job.report["skipped_groups"]["intensity"]
    with pytest.raises(DataError, match="no shape group"):
        cellprofiler_job(Store(), Store(), CellProfilerConfig(groups=("intensity",)), 0)

"""integrate and evaluate nodes on small in-memory tables of real BBBC021 wells: non-finite
values, undefined metrics and designs too small for a step; each skipped result names its reason
and every other result is still computed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cell_dino.pipelines.evaluate.nodes import classify_items, classify_other_labels, score_profiles, summarise_model
from cell_dino.pipelines.evaluate.params import EvaluateParams
from cell_dino.pipelines.integrate.nodes import embed_umap, integrate_profiles, report_integration
from cell_dino.pipelines.integrate.params import IntegrateParams
from tests.fixtures import bbbc021_wells, items_of, planted
from tests.projects import parameters

MOAS = ["Microtubule stabilizers", "Actin disruptors", "DNA damage", "Eg5 inhibitors"]
ALL = ("none", "zscore", "zscore_plate_controls", "tvn", "sphering", "harmony")
EVALUATE = parameters(
    "evaluate", EvaluateParams, scoring={"map_null_size": 200}, classifier={"epochs": 20, "n_splits": 2, "hidden": [32, 16]}
)


def integrate_params(**overrides) -> IntegrateParams:
    return parameters("integrate", IntegrateParams, **overrides)


def _partitions(profiles: dict[str, pd.DataFrame]) -> dict:
    return {key: (lambda table=table: table) for key, table in profiles.items()}


@pytest.fixture(scope="module")
def small_screen(bbbc021_manifest: pd.DataFrame) -> pd.DataFrame:
    """Items (4 cells x 3 sites) of 4 MoAs x 2 treatments and DMSO wells on their plates."""
    return planted(items_of(bbbc021_wells(bbbc021_manifest, MOAS)), seed=1)


def test_a_small_screen_skips_harmony_with_its_reason_and_keeps_every_other_normalisation(bbbc021_manifest: pd.DataFrame) -> None:
    """Harmony on 8-12 wells raised "nclust must be at least 1" and integrate lost every normalisation."""
    items = planted(items_of(bbbc021_wells(bbbc021_manifest, MOAS[:2], compounds_per_moa=1, controls_per_plate=1)))
    n_wells = items[["Metadata_Plate", "Metadata_Well"]].drop_duplicates().shape[0]
    assert 8 <= n_wells <= 12
    profiles, record = integrate_profiles(items, integrate_params(normalisations=list(ALL)))
    assert "at least 16 profiles" in record["undefined"]["harmony"]
    assert "has 1 reference row(s); at least 2 are needed" in record["undefined"]["zscore_plate_controls"]  # one DMSO well per plate
    assert {"none/well", "zscore/well", "tvn/well", "sphering/well"} <= set(profiles)
    assert "harmony/well" not in profiles and "zscore_plate_controls/well" not in profiles
    summary, _, _ = score_profiles(_partitions(profiles), EVALUATE)
    assert set(summary["normalisation"]) == {"none", "zscore", "tvn", "sphering"}


def test_without_batches_nsc_is_scored_nscb_and_harmony_are_undefined(small_screen: pd.DataFrame) -> None:
    items = small_screen.drop(columns="Metadata_Batch")
    profiles, record = integrate_profiles(items, integrate_params())
    assert "Metadata_Batch" in record["undefined"]["harmony"]
    summary, matches, _ = score_profiles(_partitions(profiles), EVALUATE)
    row = summary.set_index("normalisation").loc["zscore"]
    assert row["nsc"] > 0.8 and np.isnan(row["nscb"]) and "Metadata_Batch" in json.loads(row["undefined"])["nscb"]
    report = summarise_model(
        summary,
        {"macro_f1": 0.5},
        {},
        pd.DataFrame({"factor": [], "share": []}),
        {},
        {},
        EVALUATE.model_copy(update={"headline_normalisation": "zscore"}),
        {},
    )
    assert report["nscb"] is None and report["nsc"] == pytest.approx(row["nsc"]) and "nscb" in report["undefined"]
    json.dumps(report, allow_nan=False)  # undefined is null, never NaN


def test_other_classification_tasks_give_accuracy_or_name_the_absent_column(small_screen: pd.DataFrame) -> None:
    """HPA's cell-line task beside the localisation MLP: accuracy is the share of items predicted
    right (the predictions table's), macro-F1 the classes' mean; without the column, undefined."""
    tasks = {
        "moa": {"label": "Metadata_MoA", "group": "Metadata_Compound"},
        "cell_line": {"label": "Metadata_CellLine", "group": "Metadata_Compound"},
    }
    result = classify_other_labels(small_screen, EVALUATE.model_validate(EVALUATE.model_dump() | {"other_classifications": tasks}))
    predictions, _, record = classify_items(small_screen, EVALUATE)
    assert result["moa"]["accuracy"] == pytest.approx((predictions["label"] == predictions["prediction"]).mean())
    assert result["moa"]["macro_f1"] == pytest.approx(record["macro_f1"]) and result["moa"]["n_items"] == len(predictions)
    assert result["cell_line"]["accuracy"] is None and "Metadata_CellLine" in result["cell_line"]["undefined"]["Metadata_CellLine"]


def test_nan_rows_in_embeddings_are_dropped_and_counted_before_every_metric(small_screen: pd.DataFrame) -> None:
    """4 NaN rows let the MLP run on (macro-F1 fell from 0.646 to 0.481) and made copairs raise
    "features should not have null values"; now they are dropped, named and counted."""
    broken = small_screen.copy()
    bad = [3, 40, 41, 100]
    broken.loc[bad, [c for c in broken if c.startswith("f_")]] = np.nan
    profiles, record = integrate_profiles(broken, integrate_params())
    assert record["nonfinite"]["n_rows_dropped"] == 4 and record["nonfinite"]["n_features_dropped"] == 0
    assert "Metadata_Index=3" in record["nonfinite"]["rows"][0]
    clean, _ = integrate_profiles(small_screen.drop(index=bad), integrate_params())
    pd.testing.assert_frame_equal(profiles["tvn/treatment"], clean["tvn/treatment"])
    _, _, with_nan = classify_items(broken, EVALUATE)
    _, _, without = classify_items(small_screen.drop(index=bad).reset_index(drop=True), EVALUATE)
    assert with_nan["n_items"] == without["n_items"] and with_nan["macro_f1"] == pytest.approx(without["macro_f1"])
    with pytest.raises(Exception, match=r"non-finite .*Metadata_Index=3"):
        integrate_profiles(broken, integrate_params(nonfinite="raise"))


@pytest.mark.parametrize(
    ("design", "undefined"),
    [
        ("one well per treatment", {"map_activity", "fraction_active"}),
        ("one compound per MoA", {"map_consistency", "fraction_consistent", "knn_well", "nsc", "nscb"}),  # no right match exists
        ("a single MoA", {"map_consistency", "fraction_consistent", "knn_well", "nsc", "nscb"}),
        ("one treatment and its controls", {"map_consistency", "fraction_consistent", "knn_well", "nsc", "nscb"}),
        ("one compound at several doses", {"map_consistency", "fraction_consistent", "knn_well", "nsc", "nscb"}),
    ],
)
def test_a_map_the_design_cannot_support_is_undefined_and_the_rest_is_written(
    small_screen: pd.DataFrame, bbbc021_manifest: pd.DataFrame, design: str, undefined: set[str]
) -> None:
    """copairs raised UnpairedException and the evaluate node died, taking NSC, NSCB and k-NN with it."""
    items = small_screen
    if design == "one well per treatment":
        first_plate = items.groupby("Metadata_Treatment")["Metadata_Plate"].transform("min")
        items = items[items["Metadata_Control"] | (items["Metadata_Plate"] == first_plate)]
    elif design == "one compound per MoA":
        items = items[items["Metadata_Control"] | items["Metadata_Compound"].isin(items.groupby("Metadata_MoA")["Metadata_Compound"].min())]
    elif design == "a single MoA":
        items = items[items["Metadata_Control"] | (items["Metadata_MoA"] == MOAS[0])]
    elif design == "one treatment and its controls":
        items = items[
            items["Metadata_Control"] | (items["Metadata_Treatment"] == items.loc[~items["Metadata_Control"], "Metadata_Treatment"].iloc[0])
        ]
    else:  # docetaxel at 0.03, 0.1 and 0.3 uM
        items = planted(items_of(bbbc021_wells(bbbc021_manifest, MOAS[:1], compounds_per_moa=1, doses_per_compound=3)))
    profiles, _ = integrate_profiles(items.reset_index(drop=True), integrate_params(normalisations=["zscore"]))
    summary, _, _ = score_profiles(_partitions(profiles), EVALUATE)
    row = summary.iloc[0]
    reasons = json.loads(row["undefined"])
    assert undefined <= set(reasons) and all(np.isnan(row[m]) for m in undefined)
    assert np.isfinite(row["nsc"]) or "nsc" in reasons
    defined = {"map_activity", "map_consistency", "knn_well"} - undefined
    assert all(np.isfinite(row[m]) for m in defined)


def test_constant_features_get_chance_map_not_one(small_screen: pd.DataFrame) -> None:
    """Information-free features scored replicate-retrieval mAP 1.0 (p = 0.001) for every
    treatment, through copairs and through the blocked AP: epoch selection would pick a collapsed model."""
    constant = small_screen.copy()
    constant[[c for c in constant if c.startswith("f_")]] = 1.0
    profiles, _ = integrate_profiles(constant, integrate_params(normalisations=["none"]))
    summary, _, maps = score_profiles(_partitions(profiles), EVALUATE)
    row = summary.iloc[0]
    assert row["map_activity"] < 0.6 and row["fraction_active"] == 0.0
    assert (maps.loc[maps["kind"] == "activity", "p_value"] > 0.05).all()


def test_umap_of_too_few_fields_is_skipped_with_its_reason(small_screen: pd.DataFrame) -> None:
    few = small_screen[small_screen["Metadata_FOV"].isin(small_screen["Metadata_FOV"].unique()[:3])].reset_index(drop=True)
    umap, record = embed_umap(few, integrate_params())
    assert umap.empty and "at least 4 profiles" in record["undefined"]["umap"]
    profiles, integration = integrate_profiles(few, integrate_params(normalisations=["none"]))
    report = report_integration(_partitions(profiles), integration, umap, record)
    assert report["umap_items"] == 0 and "umap" in report["undefined"]


def test_umap_fitted_only_where_a_column_is_set_projects_every_item(small_screen: pd.DataFrame) -> None:
    """HPA's UMAP is fitted on single-label images only: the same items projected, another fit; a
    column the profiles lack is named as the reason."""
    fovs = small_screen["Metadata_FOV"].unique()
    labelled = small_screen.assign(Metadata_Location=small_screen["Metadata_FOV"].map(dict(zip(fovs, ["a", "b", None] * len(fovs)))))
    everything, _ = embed_umap(labelled, integrate_params())
    fitted_on_some, record = embed_umap(labelled, integrate_params(umap={"fit_only": "Metadata_Location"}))
    assert record["undefined"] == {} and len(fitted_on_some) == len(everything)
    assert not np.allclose(fitted_on_some.filter(like="umap").to_numpy(), everything.filter(like="umap").to_numpy())
    umap, record = embed_umap(small_screen, integrate_params(umap={"fit_only": "Metadata_Location"}))
    assert umap.empty and record["undefined"]["umap"] == "integrate.umap.fit_only: the profiles have no Metadata_Location column"


def test_integrate_then_evaluate_run_as_a_sliced_pipeline_on_an_in_memory_catalog(small_screen: pd.DataFrame) -> None:
    """The wiring of one model's namespace, without files: Kedro's runner over memory datasets."""
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    from cell_dino.pipelines.evaluate.pipeline import model_pipeline as evaluation
    from cell_dino.pipelines.integrate.pipeline import model_pipeline as integration
    from cell_dino.registry import model

    catalog = DataCatalog(
        {
            "dino_random.embeddings": MemoryDataset(small_screen),
            "params:integrate": MemoryDataset(integrate_params()),
            "params:evaluate": MemoryDataset(EVALUATE),
        }
    )
    SequentialRunner().run(integration("dino_random") + evaluation(model("dino_random")), catalog)
    summary = catalog.load("dino_random_summary")
    assert summary["headline_normalisation"] == "tvn" and summary["n_nsc"] == 8 and summary["nsc"] > 0.8
    assert catalog.load("dino_random.integrate_report")["levels"]["tvn/treatment"] == 9  # 8 treatments and DMSO


def test_a_model_without_items_is_undefined_with_its_reasons_not_a_crash(small_screen: pd.DataFrame) -> None:
    """The ImageNet baseline without a weights file embeds no items: its namespace runs through
    integrate and evaluate, every figure null with a reason, as any model the data cannot support."""
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    from cell_dino.evaluate.headline import HEADLINE
    from cell_dino.pipelines.evaluate.pipeline import model_pipeline as evaluation
    from cell_dino.pipelines.integrate.pipeline import model_pipeline as integration
    from cell_dino.registry import model

    catalog = DataCatalog(
        {
            "imagenet.embeddings": MemoryDataset(small_screen.iloc[:0]),
            "params:integrate": MemoryDataset(integrate_params()),
            "params:evaluate": MemoryDataset(EVALUATE),
        }
    )
    SequentialRunner().run(integration("imagenet") + evaluation(model("imagenet")), catalog)
    summary = catalog.load("imagenet_summary")
    assert all(summary[k] is None for k in HEADLINE)
    assert "tvn was not made" in summary["undefined"]["nsc"] and "at least 2 items, got 0" in summary["undefined"]["factor_shares"]
    assert "no items" in catalog.load("imagenet.integrate_report")["undefined"]["tvn"]
    json.dumps(summary, allow_nan=False)


def test_profiles_follow_the_pycytominer_layout_metadata_first(small_screen: pd.DataFrame) -> None:
    """pycytominer and copairs read the profiles as written: ``Metadata_*`` columns, then features."""
    profiles, _ = integrate_profiles(
        small_screen, integrate_params(normalisations=["none", "zscore_plate_controls", "mad_robustize_plate"])
    )
    assert {"none/well", "zscore_plate_controls/well", "mad_robustize_plate/treatment"} <= set(profiles)
    for key, table in profiles.items():
        is_metadata = table.columns.str.startswith("Metadata_")
        assert is_metadata[: is_metadata.sum()].all() and not is_metadata[is_metadata.sum() :].any(), key


def test_a_model_embedded_at_two_blocks_is_scored_per_layer_and_each_layer_joins_the_ladder(small_screen: pd.DataFrame) -> None:
    """``embed.features.layers``: each block's features, a consecutive block of columns named in the
    embedding's record, integrated and scored alone; here block 0 is noise and block 1 the planted
    MoA signal, so only block 1 finds its MoA neighbours."""
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    from cell_dino.evaluate.headline import models_report
    from cell_dino.evaluate.ladder import model_ladder
    from cell_dino.integrate.table import feature_columns
    from cell_dino.pipelines.evaluate.pipeline import model_pipeline as evaluation
    from cell_dino.pipelines.integrate.pipeline import model_pipeline as integration
    from cell_dino.registry import model

    signal = small_screen[feature_columns(small_screen)].to_numpy()
    noise = np.random.default_rng(5).normal(size=signal.shape)
    metadata = small_screen[[c for c in small_screen.columns if c.startswith("Metadata_")]]
    both = np.hstack([noise, signal])
    embeddings = pd.concat([metadata, pd.DataFrame(both, columns=[f"f_{j:04d}" for j in range(both.shape[1])], index=metadata.index)], axis=1)
    embeddings.attrs["embedding"] = {"layers": ["block0", "block1"]}
    catalog = DataCatalog(
        {
            "dino_random.embeddings": MemoryDataset(embeddings, copy_mode="assign"),
            "params:integrate": MemoryDataset(integrate_params()),
            "params:evaluate": MemoryDataset(EVALUATE),
        }
    )
    SequentialRunner().run(integration("dino_random") + evaluation(model("dino_random")), catalog)
    layers = catalog.load("dino_random_summary")["layers"]
    assert list(layers) == ["block0", "block1"] and layers["block1"]["nsc"] > 0.8 and layers["block0"]["nsc"] < 0.6
    assert layers["block1"]["macro_f1"] is None and "whole model" in layers["block1"]["undefined"]["macro_f1"]
    report, _ = models_report({"dino_random": catalog.load("dino_random_summary")})
    ladder = model_ladder(report)
    assert ladder.index.tolist() == ["dino_random", "dino_random@block0", "dino_random@block1"]
    assert ladder.loc["dino_random@block1", "nsc"] == layers["block1"]["nsc"]

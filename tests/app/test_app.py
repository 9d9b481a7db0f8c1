"""Streamlit's AppTest on every page of the explorer: on the outputs of the tiny test run, and on
a project where nothing has run yet."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.projects import REPO, make_project

MAIN = str(REPO / "app" / "main.py")
PAGES = [
    "views/overview.py",
    "views/embeddings.py",
    "views/evaluation.py",
    "views/profiles.py",
    "views/attention.py",
    "views/training.py",
    "views/compare.py",
]


def open_page(page: str, project: Path, monkeypatch: pytest.MonkeyPatch, model: str = "dino") -> AppTest:
    monkeypatch.setenv("CELL_DINO_PROJECT", str(project))
    monkeypatch.setenv("CELL_DINO_ENV", "test")
    app = AppTest.from_file(MAIN, default_timeout=120)
    app.run()
    app.selectbox(key="model").set_value(model).run()
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


LADDER = ["cellprofiler", "imagenet", "morphem", "dino_random", "wsdino_random", "dino_bag_random", "dino", "wsdino_cells", "wsdino", "dino_bag"]


def test_overview_lists_every_run_and_the_headline_of_every_model(finished_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(PAGES[0], finished_project, monkeypatch)
    runs, headline = app.dataframe[0].value, app.dataframe[1].value
    assert (runs["ran"] != "not yet").all(), runs
    assert set(runs["pipeline"]) >= {"ingest", "segment", "evaluate", "profile", "sweep"}
    assert {"train_dino (dino)", "train_wsdino (wsdino)", "train_wsdino (wsdino_cells)"} <= set(runs["pipeline"])
    # the model ladder: baselines first (measured features, ImageNet DINO, random-init networks), Mantel r from the profile run
    assert list(headline.index) == LADDER and "nscb" in headline
    assert headline["mantel_r"].notna().all()
    assert len(app.expander) == 9  # the parameters of each pipeline's last run, from the run records
    charts = [c.proto.spec for c in app.get("plotly_chart")]
    ladder = [spec for spec in charts if "The model ladder (this run" in spec]
    assert len(ladder) == 1 and all(f'"{m}"' in ladder[0] for m in LADDER)  # every model a point
    captions = [c.value for c in app.caption]
    hint = [c for c in captions if "benchmarks/ladder.py" in c]  # no compute curve yet: how to make one
    assert len(hint) == 1 and all(c.startswith("finished ") and "(env test" in c for c in captions if c not in hint)


def test_embeddings_show_a_sampled_cell_its_heads_and_its_neighbours(finished_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(PAGES[1], finished_project, monkeypatch)
    assert app.title[0].value == "Embeddings: dino"
    assert not app.info  # it opens on an item whose attention maps were kept
    item = app.selectbox(key="item_choice").value
    neighbours = app.dataframe[0].value
    assert len(neighbours) == 6 and item not in neighbours["Metadata_Index"].tolist()
    app.selectbox(key="item_choice").set_value(int(app.selectbox(key="item_choice").options[-1])).run()  # any other item
    assert not app.exception
    app.multiselect(key="channels").set_value(["DNA"]).run()  # one channel only
    assert not app.exception


def test_evaluation_breaks_matching_down_by_moa(finished_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(PAGES[2], finished_project, monkeypatch)
    ladder, per_moa = app.dataframe[0].value, app.dataframe[2].value
    assert list(ladder.index) == LADDER
    assert set(per_moa.index) == {"Actin disruptors", "DNA damage", "Eg5 inhibitors", "Microtubule stabilizers"}
    assert per_moa["nsc"].between(0, 1).all()


def test_profiles_zoom_on_chosen_groups(finished_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(PAGES[3], finished_project, monkeypatch)
    assert set(app.selectbox(key="matrix").options) == {"moa", "treatment", "treatment_clustered"}
    groups = app.multiselect(key="zoom").options
    app.multiselect(key="zoom").set_value(groups[:3]).run()
    assert not app.exception
    matrix = app.dataframe[0].value  # the chosen matrix as a table, with its downloads
    assert matrix.shape[0] == matrix.shape[1] - 1 - ("annotation" in matrix) and "group" in matrix
    assert app.dataframe[-1].value["modality"].item() == "ground_truth_phenotype"


def test_a_box_or_lasso_selection_opens_a_gallery_of_the_items_with_their_metadata(
    finished_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A box or lasso on the UMAP fills the gallery's item list (plotly's selection cannot be drawn
    in AppTest: the list is set as the selection sets it; the browser test draws the page)."""
    app = open_page(PAGES[1], finished_project, monkeypatch)
    chosen = [int(o) for o in app.multiselect(key="gallery").options[:3]]
    app.multiselect(key="gallery").set_value(chosen).run()
    assert not app.exception
    selected = app.dataframe[-1].value
    assert sorted(selected["Metadata_Index"].tolist()) == sorted(chosen) and "Metadata_MoA" in selected


def test_every_table_shown_has_csv_and_parquet_downloads(finished_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for page in PAGES[:4]:
        app = open_page(page, finished_project, monkeypatch)
        buttons = app.get("download_button")
        assert len(buttons) == 2 * len(app.dataframe) > 0, page
        assert [b.proto.label for b in buttons[:2]] == ["CSV", "parquet"]


def test_two_models_similarity_matrices_side_by_side(finished_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(PAGES[6], finished_project, monkeypatch)
    assert app.title[0].value == "Compare models"
    app.selectbox(key="compare_second").set_value("dino").run()  # the model against itself
    assert app.metric[0].value == "1.000" and (app.dataframe[0].value.to_numpy() == 0).all()
    app.selectbox(key="compare_second").set_value("wsdino").run()
    assert not app.exception and -1 <= float(app.metric[0].value) <= 1
    assert app.dataframe[0].value.shape[0] == app.dataframe[0].value.shape[1] >= 3


def test_attention_and_training_pages(finished_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(PAGES[4], finished_project, monkeypatch, model="wsdino")
    assert app.title[0].value == "Attention: wsdino" and len(app.selectbox(key="sampled").options) == 48
    app = open_page(PAGES[5], finished_project, monkeypatch)
    assert [h.value for h in app.subheader][:4] == ["dino training", "wsdino training", "wsdino_cells training", "dino_bag training"]
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in app.get("plotly_chart")]
    for curve in ("teacher_entropy", "kl_teacher_student", "effective_rank", "feature_spread"):
        assert titles.count(curve) == 4, curve  # the health curves of every run
    entropy = json.loads(next(c.proto.spec for c in app.get("plotly_chart") if '"text":"teacher_entropy"' in c.proto.spec.replace(" ", "")))
    assert any(a["text"] == "uniform: log(out_dim)" for a in entropy["layout"]["annotations"])  # the collapse level drawn
    trials = app.dataframe[0].value
    assert len(trials) == 3 and set(trials["state"]) <= {"COMPLETE", "PRUNED"}


def test_cellprofiler_features_have_neighbours_but_no_attention(finished_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(PAGES[1], finished_project, monkeypatch, model="cellprofiler")
    assert "no attention maps" in " ".join(i.value for i in app.info)
    neighbours = app.dataframe[0].value
    assert len(neighbours) == 6 and app.selectbox(key="item_choice").value not in neighbours["Metadata_Index"].tolist()
    app = open_page(PAGES[4], finished_project, monkeypatch, model="cellprofiler")
    assert "no attention maps" in app.info[0].value


def test_the_imagenet_baseline_has_fields_and_neighbours_but_no_attention(finished_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(PAGES[1], finished_project, monkeypatch, model="imagenet")
    assert "a network trained elsewhere" in " ".join(i.value for i in app.info)
    assert len(app.dataframe[0].value) == 6  # neighbours of a field
    for page in PAGES[2:5]:
        open_page(page, finished_project, monkeypatch, model="imagenet")  # no exception


@pytest.mark.parametrize("page", PAGES)
def test_missing_outputs_name_the_run_that_makes_them(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(page, make_project(tmp_path), monkeypatch)
    messages = " ".join(i.value for i in app.info)
    if page.endswith("overview.py"):
        assert (app.dataframe[0].value["ran"] == "not yet").all() and "kedro run -e test --pipeline evaluate" in messages
        assert all(c.value.startswith("no run recorded yet") for c in app.caption)
    else:
        assert "kedro run -e test --pipeline" in messages, messages


def test_the_explorer_imports_neither_torch_nor_the_pipelines(finished_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import subprocess

    code = f"""
import os, sys
os.environ["CELL_DINO_PROJECT"] = {str(finished_project)!r}
sys.path.insert(0, {str(REPO / "app")!r})
from streamlit.testing.v1 import AppTest
for page in {PAGES!r}:
    app = AppTest.from_file({MAIN!r}, default_timeout=120)
    app.session_state["env"] = "test"
    app.run()
    app.switch_page(page).run()
leaked = sorted(m for m in sys.modules if m == "torch" or m.startswith("cell_dino.pipelines"))
assert not leaked, leaked
"""
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"})


def test_an_env_that_takes_runtime_parameters_shows_a_message_not_an_exception(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bbbc021 env's parameters need ``--params root=...``: Overview raised on them."""
    project = make_project(tmp_path)
    monkeypatch.setenv("CELL_DINO_PROJECT", str(project))
    monkeypatch.setenv("CELL_DINO_ENV", "bbbc021")
    app = AppTest.from_file(MAIN, default_timeout=120)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("take values given at run time" in i.value and "root" in i.value for i in app.info)


def test_an_unknown_env_is_warned_about_and_passwords_in_run_records_are_hidden(
    finished_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    record = finished_project / "data/test/08_reporting/runs/sweep.json"
    saved = record.read_text()
    record.write_text(json.dumps({**json.loads(saved), "runtime_params": {"sweep_storage": "postgresql://u:s3cret@h/db"}}))
    try:
        app = open_page(PAGES[0], finished_project, monkeypatch)
        assert "s3cret" not in " ".join(c.value for c in app.caption) and any("u:***@h/db" in c.value for c in app.caption)
        monkeypatch.setenv("CELL_DINO_ENV", "nosuchenv")
        app = AppTest.from_file(MAIN, default_timeout=120)
        app.run()
        assert any(
            "`nosuchenv`, which is not an environment under conf/" in w.value and w.value.endswith("showing `local`") for w in app.warning
        )  # the demo's environment, not the alphabetically first (bbbc021)
    finally:
        record.write_text(saved)

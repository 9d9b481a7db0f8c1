"""The sweep pipeline: an Optuna study over the train_dino augmentations, then its trials table,
best parameters (a train_dino override), plots and report."""

from kedro.pipeline import Node, Pipeline

from cell_dino.pipelines.sweep.nodes import best_parameters, plot_sweep, report_sweep, run_sweep, tabulate_trials


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                run_sweep,
                ["crop_store", "fov_store", "fov_table", "sweep_storage", "params:train_dino", "params:sweep"],
                ["sweep_study", "sweep_record"],
                name="run_sweep",
            ),
            Node(tabulate_trials, "sweep_study", "sweep_trials", name="tabulate_trials"),
            Node(best_parameters, ["sweep_study", "params:train_dino"], "sweep_best_params", name="best_parameters"),
            Node(plot_sweep, "sweep_study", ["sweep_history_figure", "sweep_importance_figure"], name="plot_sweep"),
            Node(report_sweep, "sweep_study", "sweep_report", name="report_sweep"),
        ],
        tags="sweep",
    )

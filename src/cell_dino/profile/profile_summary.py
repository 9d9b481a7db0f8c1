"""One model's profiling figures for ``08_reporting/profile.json``."""

from __future__ import annotations

from typing import Any

import pandas as pd
from scipy.stats import spearmanr

from cell_dino.integrate.table import label_of


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-safe dicts (NaN -> None)."""
    return frame.round(4).astype(object).where(frame.notna(), None).to_dict(orient="records")


def profile_summary(
    modality: pd.DataFrame,
    cells: pd.DataFrame,
    ranking: pd.DataFrame,
    overlap: pd.DataFrame,
    shares: pd.DataFrame,
    pseudotime_column: str | None,
    order_column: str | None,
    heterogeneity_by: list[str],
) -> dict:
    """Mantel / CCA rows; pseudotime medians per group and, with an ``order_column``, its Spearman
    correlation with pseudotime; the most variable groups; each channel's mean attention IoU and
    each head's best channel; the discriminative tokens' regions."""
    summary: dict[str, Any] = {
        "modality": records(modality.drop(columns="canonical_correlations", errors="ignore")),
    }
    if not cells.empty:
        reached = cells[cells["pseudotime"].notna()]
        summary["pseudotime"] = {
            "n_items": len(cells),
            "n_unreachable": int(len(cells) - len(reached)),
            "median_by_group": reached.groupby(pseudotime_column)["pseudotime"].median().round(4).to_dict(),
        }
        if order_column in reached.columns and reached[order_column].nunique() > 1:
            summary["pseudotime"][f"spearman_with_{order_column}"] = float(
                spearmanr(reached["pseudotime"], reached[order_column]).statistic
            )
    if not ranking.empty:
        summary["heterogeneity"] = {"n_groups": len(ranking), "most_variable": label_of(ranking.head(5), heterogeneity_by).tolist()}
    if not overlap.empty:
        matrix = overlap.set_index("head")
        summary["attention_overlap"] = {
            "mean_iou_by_channel": matrix.mean().round(4).to_dict(),
            "best_channel_by_head": matrix.idxmax(axis=1).to_dict(),
        }
    if not shares.empty:
        summary["discriminative_tokens"] = records(shares)
    return summary

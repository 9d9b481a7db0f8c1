"""CellProfiler measurements of the segmented objects of one field, the features image-based
profiling uses today (a baseline model): shape, intensity, texture, granularity, radial
distribution and correlation between channels, computed by ``cp-measure`` (CellProfiler's
measurement modules as a library) on the illumination-corrected field and the segment pipeline's
nuclei and cell label masks.

Columns are named as CellProfiler names them, ``<Object>_<Category>_<Feature>[_<Channel>...]``
(``Cells_Intensity_MeanIntensity_DNA``, ``Nuclei_AreaShape_Area``, ``Cells_Correlation_Correlation_DNA_Actin``),
except that texture and radial distribution keep cp-measure's order of parameters and channel
(``Cells_Texture_Contrast_3_00_256_Actin``, ``Cells_RadialDistribution_FracAtD_1of4_DNA``). Features of an
object's position in the field (``Location_*``, bounding box, spatial moments) are not morphology
and are left out. Texture is measured, as CellProfiler does, on the image quantised to 256 grey
levels: a nucleus dimmer than 1/256 of the full scale has undefined (NaN) texture.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd
from cp_measure.featurizer import featurize, make_featurizer_config
from pydantic import Field

from cell_dino.core.config import Count, Fraction, settings

Group = Literal[
    "intensity",
    "sizeshape",
    "zernike",
    "feret",
    "texture",
    "granularity",
    "radial_distribution",
    "radial_zernikes",
    "correlation_pearson",
    "correlation_costes",
    "correlation_manders_fold",
    "correlation_rwc",
]
GROUPS: tuple[str, ...] = Group.__args__  # type: ignore[attr-defined]
SHAPE_GROUPS = ("sizeshape", "zernike", "feret")  # measured on the masks alone
# the CellProfiler category of the groups whose cp-measure keys lack it
CATEGORY = {
    "sizeshape": "AreaShape",
    "zernike": "AreaShape",
    "feret": "AreaShape",
    "texture": "Texture",
    "radial_zernikes": "RadialDistribution",
}
RENAMED = {"Correlation_Pearson_": "Correlation_Correlation_"}  # cp-measure's name -> CellProfiler's
POSITIONAL = (
    "Location_",
    "BoundingBoxMinimum",
    "BoundingBoxMaximum",
    "Center_",
    "SpatialMoment",
)  # where an object is, not what it looks like
OBJECTS = ("Nuclei", "Cells")  # the crop store's masks, in order
Selection = Literal["drop_na_columns", "variance_threshold", "correlation_threshold", "blocklist"]


@settings
class CellProfilerConfig:
    """What is measured (cp-measure's groups) and how features are selected (pycytominer's
    ``feature_select`` operations and thresholds, its defaults)."""

    # The groups of a typical Cell Painting CellProfiler pipeline (JUMP's) without Zernike moments,
    # Feret diameters, Costes, Manders and RWC colocalisation: Costes' threshold search alone takes
    # five times as long as every other group together (1.4 s vs 7.7 s per 256 x 320 field).
    groups: tuple[Group, ...] = ("intensity", "sizeshape", "texture", "granularity", "radial_distribution", "correlation_pearson")
    # the full scale of the source images: CellProfiler divides pixels by it on loading (16 bit: 65,535)
    intensity_scale: Count = 65535
    selection: tuple[Selection, ...] = ("drop_na_columns", "variance_threshold", "correlation_threshold")  # (): every feature kept
    na_cutoff: Fraction = 0.05  # pycytominer: a feature missing in more than this share of cells is dropped
    corr_threshold: float = Field(0.9, gt=0, le=1)  # pycytominer: of two features correlated above this, one is dropped
    selection_max_items: Count = 50_000  # seeded sample of cells on which the features are selected
    fields_per_shard: Count = 64  # fields per resumable shard


def cellprofiler_name(obj: str, group: str, key: str) -> str:
    """CellProfiler's column name of cp-measure's ``key`` (``Contrast_3_00_256__DNA``) measured by
    ``group`` on ``obj``: ``Cells_Texture_Contrast_3_00_256_DNA``."""
    category = CATEGORY.get(group)
    feature = (key if category is None or key.startswith(f"{category}_") else f"{category}_{key}").replace("__", "_")
    for theirs, cellprofilers in RENAMED.items():
        feature = feature.replace(theirs, cellprofilers)
    return f"{obj}_{feature}"


class NonFiniteField(ValueError):
    """A stored field holds NaN or infinite pixels (``index``: its row in the store)."""

    def __init__(self, index: int) -> None:
        super().__init__(f"field {index} has non-finite pixels")
        self.index = index

    def __reduce__(self) -> tuple:  # raised in worker processes: rebuilt from the index
        return NonFiniteField, (self.index,)


def measure_stored_field(images: Any, masks: Any, index: int, channels: list[str], config: CellProfilerConfig) -> pd.DataFrame:
    """:func:`measure_field` of field ``index`` of the stores' ``images`` (``N x C x H x W``) and
    ``masks`` (``N x 2 x H x W``), read where it runs (a worker process or a Dask worker); raises
    :class:`NonFiniteField` for non-finite pixels."""
    image = np.asarray(images[index])
    if not np.isfinite(image).all():
        raise NonFiniteField(index)
    return measure_field(image, np.asarray(masks[index]), channels, config)


def measure_field(image: np.ndarray, masks: np.ndarray, channels: list[str], config: CellProfilerConfig) -> pd.DataFrame:
    """One row per cell label of ``masks[1]`` (``label`` column) with the features of its cell and
    of the nucleus of the same label (NaN where that nucleus is absent).

    ``image``: ``C x H x W`` in the source's intensity units (divided by ``config.intensity_scale``
    and clipped to [0, 1] as CellProfiler loads images); ``masks``: ``2 x H x W`` integer labels
    (nuclei, cells; 0 background). A field without cells gives an empty frame. Raises
    ``ValueError`` for non-finite pixels (cp-measure would crash or hang on them).
    """
    if not np.isfinite(image).all():
        raise ValueError(f"{int((~np.isfinite(image)).sum())} non-finite pixel(s): CellProfiler features need finite images")
    pixels = np.clip(np.asarray(image, dtype=np.float64) / config.intensity_scale, 0.0, 1.0)[None]
    labels = np.asarray(masks).astype(np.int32)[None]
    if not labels[0, 1].any():
        return pd.DataFrame({"label": pd.Series(dtype=np.int64)})
    columns: dict[str, pd.Series] = {}
    for group in config.groups:
        settings_ = make_featurizer_config(
            list(channels),
            objects=list(OBJECTS),
            **{g: g == group for g in GROUPS},
            correlation_costes_params={"scale_max": config.intensity_scale},
        )
        with warnings.catch_warnings():  # cp-measure warns per undefined value (an object of one pixel, a flat channel): NaN
            warnings.simplefilter("ignore")
            data, keys, rows = featurize(pixels, labels, settings_)
        index = pd.MultiIndex.from_tuples([(obj, int(label)) for _, obj, label in rows], names=["object", "label"])
        frame = pd.DataFrame(data, index=index, columns=keys)
        for obj in OBJECTS:
            part = frame.xs(obj, level="object") if obj in index.get_level_values("object") else pd.DataFrame(columns=keys, dtype=float)
            for key in keys:
                if not key.startswith(POSITIONAL):
                    columns[cellprofiler_name(obj, group, key)] = part[key]
    cells = np.unique(labels[0, 1])
    return pd.DataFrame(columns).reindex(cells[cells > 0]).rename_axis("label").reset_index()

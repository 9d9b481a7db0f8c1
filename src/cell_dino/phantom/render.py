"""Render one field of view of cells: noiseless signal per channel and ground-truth masks.

Cells are star-shaped territories (elongated, with a wavy outline) placed by dart throwing, so
neighbours touch along shared borders. Each cell has a nucleus (DNA, with chromatin texture and
micronuclei), microtubules radiating from a centrosome (Tubulin) and an actin cortex, stress
fibres and puncta (Actin). Mitotic cells are rounded, with condensed DNA and a spindle whose
number of poles the phenotype sets (0: no microtubules, 1: monoaster, 2: bipolar, 3+: multipolar).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage
from skimage.draw import disk, line_aa
from skimage.segmentation import find_boundaries

from cell_dino.phantom.phenotypes import Phenotype

HARMONICS = np.arange(2, 6)
DEBRIS_BRIGHTNESS = np.array([2.5, 0.6, 0.9], np.float32)


@dataclass
class FieldTruth:
    """A rendered field: noiseless ``3 x H x W`` signal, label masks and one row per cell."""

    signal: np.ndarray
    nuclei: np.ndarray
    cells: np.ndarray
    table: pd.DataFrame


@dataclass
class _Cell:
    centre: np.ndarray
    radius: float
    elongation: float
    angle: float
    harmonics: np.ndarray
    phases: np.ndarray
    mitotic: bool
    nucleus_centre: np.ndarray
    nucleus_radius: float
    nucleus_aspect: float
    nucleus_angle: float


def _star_distance(
    yy: np.ndarray, xx: np.ndarray, centre: np.ndarray, radius: float, elongation: float,
    angle: float, harmonics: np.ndarray | None = None, phases: np.ndarray | None = None,
) -> np.ndarray:
    """Normalised distance to a wavy ellipse: < 1 inside, 1 on the outline."""
    dy, dx = yy - centre[0], xx - centre[1]
    u = dx * np.cos(angle) + dy * np.sin(angle)
    v = -dx * np.sin(angle) + dy * np.cos(angle)
    stretch = np.sqrt(elongation)
    rho = np.hypot(u / (radius * stretch), v * stretch / radius)
    if harmonics is not None:
        phi = np.arctan2(v, u)[..., None]
        rho = rho / (1.0 + np.sum(harmonics * np.cos(HARMONICS * phi + phases), axis=-1))
    return rho


def _place_centres(shape: tuple[int, int], n: int, min_distance: float, rng: np.random.Generator) -> np.ndarray:
    centres: list[np.ndarray] = []
    for _ in range(n * 30):
        if len(centres) == n:
            break
        c = rng.uniform((0, 0), shape)
        if all(np.hypot(*(c - o)) >= min_distance for o in centres):
            centres.append(c)
    return np.array(centres).reshape(-1, 2)


def _sample_cells(phenotype: Phenotype, shape: tuple[int, int], n: int, rng: np.random.Generator, variation: float) -> list[_Cell]:
    cells = []
    for centre in _place_centres(shape, n, 0.9 * phenotype.cell_radius, rng):
        mitotic = bool(rng.random() < phenotype.mitotic_fraction)
        nucleus_radius = phenotype.nucleus_radius * rng.lognormal(0, 0.1 * variation)
        if mitotic:
            radius, elongation = 1.7 * nucleus_radius, 1.0
            harmonics = rng.normal(0, 0.02, HARMONICS.size)
        else:
            radius = max(phenotype.cell_radius * rng.lognormal(0, 0.12 * variation), nucleus_radius + 3)
            elongation = phenotype.cell_elongation * rng.lognormal(0, 0.08 * variation)
            harmonics = rng.normal(0, 0.07, HARMONICS.size)
        angle = rng.uniform(0, np.pi)
        offset = rng.normal(0, 0.12 * (radius - nucleus_radius), 2) if not mitotic else np.zeros(2)
        cells.append(
            _Cell(
                centre=centre, radius=radius, elongation=elongation, angle=angle, harmonics=harmonics,
                phases=rng.uniform(0, 2 * np.pi, HARMONICS.size), mitotic=mitotic,
                nucleus_centre=centre + offset,
                nucleus_radius=nucleus_radius * (0.75 if mitotic else 1.0),
                nucleus_aspect=1.0 if mitotic else phenotype.nucleus_aspect * rng.lognormal(0, 0.08 * variation),
                nucleus_angle=angle + rng.normal(0, 0.3),
            )
        )
    return cells


def _bbox(centre: np.ndarray, reach: float, shape: tuple[int, int]) -> tuple[slice, slice]:
    lo = np.maximum(np.floor(centre - reach), 0).astype(int)
    hi = np.minimum(np.ceil(centre + reach) + 1, shape).astype(int)
    return slice(lo[0], hi[0]), slice(lo[1], hi[1])


def _territories(cells: list[_Cell], shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Cell labels (z-buffer on the normalised distance) and the nucleus distance maps' labels."""
    labels = np.zeros(shape, np.int32)
    best = np.full(shape, np.inf, np.float32)
    nuclei = np.zeros(shape, np.int32)
    for i, cell in enumerate(cells, start=1):
        box = _bbox(cell.centre, 1.5 * cell.radius * np.sqrt(cell.elongation), shape)
        yy, xx = np.mgrid[box]
        d = _star_distance(yy, xx, cell.centre, cell.radius, cell.elongation, cell.angle, cell.harmonics, cell.phases)
        win = (d < 1) & (d < best[box])
        best[box][win] = d[win]
        labels[box][win] = i
    for i, cell in enumerate(cells, start=1):
        box = _bbox(cell.nucleus_centre, 1.4 * cell.nucleus_radius * np.sqrt(cell.nucleus_aspect), shape)
        yy, xx = np.mgrid[box]
        dn = _star_distance(yy, xx, cell.nucleus_centre, cell.nucleus_radius, cell.nucleus_aspect, cell.nucleus_angle)
        nuclei[box][(dn < 1) & (labels[box] == i)] = i
    return labels, nuclei


def _draw_line(canvas: np.ndarray, labels: np.ndarray, label: int, start: np.ndarray, end: np.ndarray, weight: float) -> None:
    rr, cc, val = line_aa(*np.round(start).astype(int), *np.round(end).astype(int))
    keep = (rr >= 0) & (rr < canvas.shape[0]) & (cc >= 0) & (cc < canvas.shape[1])
    rr, cc, val = rr[keep], cc[keep], val[keep]
    own = labels[rr, cc] == label
    np.add.at(canvas, (rr[own], cc[own]), weight * val[own])


def _draw_spot(canvas: np.ndarray, centre: np.ndarray, radius: float, weight: float) -> None:
    rr, cc = disk(tuple(centre), radius, shape=canvas.shape)
    canvas[rr, cc] += weight


def _unit(angle: float) -> np.ndarray:
    return np.array([np.sin(angle), np.cos(angle)])


def _draw_tubulin(canvas, labels, label, cell: _Cell, phenotype: Phenotype, rng) -> None:
    if cell.mitotic:
        poles = int(phenotype.spindle_poles)
        axis = rng.uniform(0, 2 * np.pi)
        for k in range(poles):
            pole = cell.centre + 0.9 * cell.nucleus_radius * _unit(axis + 2 * np.pi * k / max(poles, 1)) * (poles > 1)
            for a in rng.uniform(0, 2 * np.pi, 10):
                _draw_line(canvas, labels, label, pole, pole + 1.1 * cell.nucleus_radius * _unit(a), 1.2)
        return
    n_filaments = rng.poisson(16 * (1 - phenotype.tubulin_loss))
    centrosome = cell.nucleus_centre + 1.1 * cell.nucleus_radius * _unit(rng.uniform(0, 2 * np.pi))
    reach = 2.0 * cell.radius * np.sqrt(cell.elongation)
    for a in rng.uniform(0, 2 * np.pi, n_filaments):
        bend = rng.normal(0, 0.15)
        start = centrosome + 1.5 * _unit(a)
        mid = start + 0.5 * reach * _unit(a)
        _draw_line(canvas, labels, label, start, mid, 0.45 * (1 + phenotype.tubulin_bundling))
        _draw_line(canvas, labels, label, mid, mid + 0.5 * reach * _unit(a + bend), 0.45 * (1 + phenotype.tubulin_bundling))


def _draw_actin(canvas, labels, label, cell: _Cell, phenotype: Phenotype, rng) -> None:
    if cell.mitotic:
        return
    half_width = cell.radius / np.sqrt(cell.elongation)
    half_length = cell.radius * np.sqrt(cell.elongation)
    along = _unit(cell.angle)
    across = np.array([along[1], -along[0]])
    for _ in range(rng.poisson(6 * phenotype.actin_fibres)):
        offset = cell.centre + rng.uniform(-0.8, 0.8) * half_width * across
        tilt = rng.normal(0, 0.1)
        direction = along * np.cos(tilt) + across * np.sin(tilt)
        _draw_line(canvas, labels, label, offset - half_length * direction, offset + half_length * direction, 0.5)
    ys, xs = np.nonzero(labels == label)
    if ys.size:
        for k in rng.integers(0, ys.size, rng.poisson(8 * phenotype.actin_puncta)):
            _draw_spot(canvas, np.array([ys[k], xs[k]]), rng.uniform(0.8, 1.6), 1.6)


def _texture(shape: tuple[int, int], sigma: float, rng: np.random.Generator) -> np.ndarray:
    noise = ndimage.gaussian_filter(rng.standard_normal(shape), sigma)
    return noise / (noise.std() + 1e-8)


def render_field(
    phenotype: Phenotype, shape: tuple[int, int], n_cells: int, rng: np.random.Generator, cell_variation: float = 1.0
) -> FieldTruth:
    """Render one field of ``n_cells`` cells of the given phenotype (cell-to-cell spread of size and
    shape times ``cell_variation``)."""
    cells = _sample_cells(phenotype, shape, n_cells, rng, cell_variation)
    labels, nuclei = _territories(cells, shape)
    present = [i for i, c in enumerate(cells, start=1) if (nuclei == i).sum() >= 0.5 * np.pi * c.nucleus_radius**2]
    keep = np.zeros(len(cells) + 1, bool)
    keep[present] = True
    relabel = np.zeros(len(cells) + 1, np.int32)
    relabel[present] = np.arange(1, len(present) + 1)
    labels, nuclei = relabel[np.where(keep[labels], labels, 0)], relabel[np.where(keep[nuclei], nuclei, 0)]
    cells = [cells[i - 1] for i in present]

    dna = np.zeros(shape, np.float32)
    tubulin_lines = np.zeros(shape, np.float32)
    actin_lines = np.zeros(shape, np.float32)
    chromatin = _texture(shape, 1.2, rng)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    micronuclei = []
    for label, cell in enumerate(cells, start=1):
        box = _bbox(cell.nucleus_centre, 1.4 * cell.nucleus_radius * np.sqrt(cell.nucleus_aspect), shape)
        own = nuclei[box] == label
        dn = _star_distance(yy[box], xx[box], cell.nucleus_centre, cell.nucleus_radius, cell.nucleus_aspect, cell.nucleus_angle)
        condensation = phenotype.chromatin_condensation + (0.5 if cell.mitotic else 0.0)
        level = (2.2 if cell.mitotic else 1.0) * (1 - 0.35 * dn**2) * np.clip(1 + condensation * chromatin[box], 0.2, None)
        dna[box][own] += level[own]
        n_micro = 0 if cell.mitotic else rng.poisson(phenotype.micronuclei)
        for a in rng.uniform(0, 2 * np.pi, n_micro):
            spot = cell.nucleus_centre + cell.nucleus_radius * rng.uniform(1.3, 1.7) * _unit(a)
            _draw_spot(dna, spot, rng.uniform(1.0, 1.8), 1.3)
            micronuclei.append(label)
        _draw_tubulin(tubulin_lines, labels, label, cell, phenotype, rng)
        _draw_actin(actin_lines, labels, label, cell, phenotype, rng)

    inside = labels > 0
    mitotic = np.array([False] + [c.mitotic for c in cells])[labels]
    bundle_sigma = 0.6 + 0.7 * phenotype.tubulin_bundling
    tubulin = ndimage.gaussian_filter(tubulin_lines, bundle_sigma) * (1 + bundle_sigma)
    tubulin += inside * (0.18 + 0.3 * phenotype.tubulin_loss) + mitotic * 0.25 * (phenotype.spindle_poles == 0)
    edge_distance = ndimage.distance_transform_edt(~find_boundaries(labels, mode="inner"))
    cortex = np.exp(-edge_distance / 1.5) * inside * np.where(mitotic, 1.2, 0.6)
    actin = ndimage.gaussian_filter(actin_lines, 0.7) + cortex + inside * 0.12

    debris = np.zeros(shape, np.float32)
    for _ in range(rng.poisson(1.5)):
        _draw_spot(debris, rng.uniform((0, 0), shape), rng.uniform(0.8, 2.5), 1.0)
    signal = np.stack([dna, tubulin, actin]) + DEBRIS_BRIGHTNESS[:, None, None] * debris
    table = pd.DataFrame(
        {
            "label": np.arange(1, len(cells) + 1),
            "centre_y": [c.centre[0] for c in cells],
            "centre_x": [c.centre[1] for c in cells],
            "mitotic": [c.mitotic for c in cells],
            "nucleus_radius": [c.nucleus_radius for c in cells],
            "cell_radius": [c.radius for c in cells],
            "cell_elongation": [c.elongation for c in cells],
            "micronuclei": np.bincount(np.array(micronuclei, int), minlength=len(cells) + 1)[1:],
        }
    )
    return FieldTruth(signal=signal.astype(np.float32), nuclei=nuclei.astype(np.uint16), cells=labels.astype(np.uint16), table=table)

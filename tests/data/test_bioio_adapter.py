"""Microscope files through bioio: OME-TIFF and OME-Zarr fields written here with bioio's own writers
(no real OME-TIFF ships in any registry package), laid out as BBBC021's first wells (real plate,
wells, sites and compounds), with channels named in each file's metadata and in another order in
some files."""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cell_dino.data.adapters import read_manifest
from cell_dino.data.errors import ImageReadError, ManifestError
from cell_dino.data.readers import read_fov
from tests.conftest import SHARED_BBBC021

pytest.importorskip("bioio_ome_tiff")
CHANNELS = ["DAPI", "Tubulin", "Actin"]


def bbbc021_fields(n: int = 4) -> pd.DataFrame:
    """The first ``n`` fields of the real BBBC021 image table: plate, well, site, compound."""
    real = pd.read_csv(SHARED_BBBC021 / "BBBC021_v1_image.csv.gz", nrows=n)
    return pd.DataFrame(
        {
            "Metadata_Plate": real["Image_Metadata_Plate_DAPI"],
            "Metadata_Well": real["Image_Metadata_Well_DAPI"],
            "Metadata_Site": real["Image_FileName_DAPI"].str.extract(r"_s(\d)_")[0].astype(int),
            "Metadata_Compound": real["Image_Metadata_Compound"],
            "Metadata_Concentration": real["Image_Metadata_Concentration"],
        }
    )


def pixels(field: int, channel: str, shape: tuple[int, int] = (40, 48)) -> np.ndarray:
    """A field's channel: a level that says which field and channel it is, plus texture."""
    level = 1000 * (CHANNELS.index(channel) + 1) + 100 * field
    return (level + np.random.default_rng(field).integers(0, 50, shape)).astype(np.uint16)


def write_ome_tiff(path: Path, field: int, order: list[str], plate: tuple[str, str, int] | None = None) -> Path:
    """One field as a ``C x Y x X`` OME-TIFF with its channels named in ``order``; with ``plate``
    (name, well, site), an OME plate whose well sample points at the image."""
    from bioio_ome_tiff.writers import OmeTiffWriter

    data = np.stack([pixels(field, c) for c in order])
    path.parent.mkdir(parents=True, exist_ok=True)
    if plate is None:
        OmeTiffWriter.save(data, path, dim_order="CYX", channel_names=order)
        return path
    from ome_types.model import ImageRef, Plate, Well, WellSample

    name, well, site = plate
    ome = OmeTiffWriter.build_ome([data.shape], [data.dtype], dimension_order=["CYX"], channel_names=[order], image_name=[path.stem])
    row, column = string.ascii_uppercase.index(well[0]), int(well[1:]) - 1
    sample = WellSample(id="WellSample:0", index=site - 1, image_ref=ImageRef(id=ome.images[0].id))
    ome.plates = [Plate(id="Plate:0", name=name, wells=[Well(id="Well:0", row=row, column=column, well_samples=[sample])])]
    OmeTiffWriter.save(data, path, dim_order="CYX", ome_xml=ome)
    return path


def write_ome_zarr(path: Path, field: int, order: list[str]) -> Path:
    from bioio_ome_zarr.writers import Channel, OMEZarrWriter

    data = np.stack([pixels(field, c) for c in order])
    writer = OMEZarrWriter(str(path), level_shapes=data.shape, dtype=data.dtype, axes_names=["c", "y", "x"],
                           axes_types=["channel", "space", "space"], channels=[Channel(label=c, color="FFFFFF") for c in order])
    writer.write_full_volume(data)
    return path


def fields_of(manifest: pd.DataFrame) -> list[np.ndarray]:
    """Each manifest row's field, channels in the manifest's channel order, by their planes."""
    return [
        read_fov([Path(row[f"PathName_{c}"]) / row[f"FileName_{c}"] for c in CHANNELS], [int(row[f"Plane_{c}"]) for c in CHANNELS])
        for _, row in manifest.iterrows()
    ]


def test_ome_tiff_fields_with_a_plate_in_their_metadata_are_read_by_channel_name(tmp_path: Path) -> None:
    design = bbbc021_fields()
    orders = [CHANNELS, ["Actin", "DAPI", "Tubulin"], CHANNELS, ["Tubulin", "Actin", "DAPI"]]
    for i, row in design.iterrows():
        write_ome_tiff(tmp_path / f"field{i}.ome.tiff", i, orders[i], (row["Metadata_Plate"], row["Metadata_Well"], row["Metadata_Site"]))
    manifest = read_manifest("bioio", tmp_path, {"channels": CHANNELS})
    assert manifest[["Metadata_Plate", "Metadata_Well", "Metadata_Site"]].to_dict("records") == design[
        ["Metadata_Plate", "Metadata_Well", "Metadata_Site"]
    ].to_dict("records")
    assert manifest["Metadata_FOV"].tolist() == [f"Week4_27481/G10/{s}" for s in (1, 2, 3, 4)]
    assert manifest["Plane_DAPI"].tolist() == [0, 1, 0, 2]  # where DAPI is in each file
    for i, field in enumerate(fields_of(manifest)):
        for c, channel in enumerate(CHANNELS):
            np.testing.assert_array_equal(field[c], pixels(i, channel))


def test_ome_zarr_fields_take_their_design_from_a_table(tmp_path: Path) -> None:
    design = bbbc021_fields(3)
    orders = [CHANNELS, ["Actin", "Tubulin", "DAPI"], CHANNELS]
    for i in range(3):
        write_ome_zarr(tmp_path / "zarr" / f"s{i}.ome.zarr", i, orders[i])
    design.assign(FileName=[f"s{i}.ome.zarr" for i in range(3)], PathName="zarr").to_csv(tmp_path / "fields.csv", index=False)
    manifest = read_manifest("bioio", tmp_path, {"table": "fields.csv"})
    assert manifest["Metadata_Compound"].tolist() == ["5-fluorouracil"] * 3 and manifest["Metadata_Site"].tolist() == [1, 2, 3]
    assert manifest["Plane_DAPI"].tolist() == [0, 2, 0] and manifest["Plane_Actin"].tolist() == [2, 0, 2]
    for i, field in enumerate(fields_of(manifest)):
        np.testing.assert_array_equal(field[CHANNELS.index("Tubulin")], pixels(i, "Tubulin"))


def test_plate_well_and_site_from_the_path(tmp_path: Path) -> None:
    for i, (well, site) in enumerate([("B02", 1), ("B02", 2), ("C03", 1)]):
        write_ome_tiff(tmp_path / "Week1_22123" / f"{well}_s{site}.ome.tif", i, CHANNELS)
    manifest = read_manifest("bioio", tmp_path, {"pattern": r"(?P<plate>Week\d_\d+)/(?P<well>[A-P]\d\d)_s(?P<site>\d)"})
    assert manifest["Metadata_FOV"].tolist() == ["Week1_22123/B02/1", "Week1_22123/B02/2", "Week1_22123/C03/1"]


def test_bad_files_are_named(tmp_path: Path) -> None:
    write_ome_tiff(tmp_path / "a.ome.tiff", 0, CHANNELS, ("P1", "A01", 1))
    write_ome_tiff(tmp_path / "b.ome.tiff", 1, ["DAPI", "Actin"], ("P1", "A01", 2))
    with pytest.raises(ManifestError, match=r"b\.ome\.tiff: channel\(s\) \['Tubulin'\] not in the file's channels \['DAPI', 'Actin'\]"):
        read_manifest("bioio", tmp_path, {})
    (tmp_path / "b.ome.tiff").unlink()
    write_ome_tiff(tmp_path / "c.ome.tiff", 2, CHANNELS)
    with pytest.raises(ManifestError, match=r"c\.ome\.tiff: no \['Metadata_Plate', 'Metadata_Well', 'Metadata_Site'\]"):
        read_manifest("bioio", tmp_path, {})
    (tmp_path / "d.ome.zarr").mkdir()
    with pytest.raises(ImageReadError, match=r"d\.ome\.zarr: not readable as a microscope file"):
        read_fov([tmp_path / "d.ome.zarr"], [0])
    with pytest.raises(ManifestError, match="no microscope files match"):
        read_manifest("bioio", tmp_path / "empty", {})


def test_an_ome_zarr_with_a_missing_chunk_is_refused_not_read_as_blank_pixels(tmp_path: Path) -> None:
    from bioio_ome_zarr.writers import Channel, OMEZarrWriter

    data = np.stack([pixels(0, c, (128, 128)) for c in CHANNELS])
    path = tmp_path / "P1" / "s1.ome.zarr"
    writer = OMEZarrWriter(str(path), level_shapes=data.shape, dtype=data.dtype, chunk_shape=(1, 64, 64), axes_names=["c", "y", "x"],
                           axes_types=["channel", "space", "space"], channels=[Channel(label=c, color="FFFFFF") for c in CHANNELS])
    writer.write_full_volume(data)
    np.testing.assert_array_equal(read_fov([path], [1])[0], data[1])  # whole: read exactly
    (path / "0" / "c" / "0" / "0" / "1").unlink()  # an interrupted copy: one chunk of DAPI gone
    with pytest.raises(ImageReadError, match=r"s1\.ome\.zarr: 1 of 12 chunks of its full-resolution array \(0\) are missing"):
        read_fov([path], [1])


def test_an_ngff_plate_field_folder_without_a_suffix_is_read(tmp_path: Path) -> None:
    field = write_ome_zarr(tmp_path / "plate.ome.zarr" / "G" / "10" / "0", 0, CHANNELS)  # plate/row/column/field
    pd.DataFrame({"FileName": ["0"], "PathName": ["plate.ome.zarr/G/10"], "Metadata_Plate": ["Week4_27481"], "Metadata_Well": ["G10"],
                  "Metadata_Site": [1]}).to_csv(tmp_path / "fields.csv", index=False)
    manifest = read_manifest("bioio", tmp_path, {"table": "fields.csv"})
    np.testing.assert_array_equal(fields_of(manifest)[0][2], pixels(0, "Actin"))
    assert field.name == "0"


def test_several_scenes_repeated_channels_and_bad_sites_are_refused_naming_the_file(tmp_path: Path) -> None:
    from bioio_ome_tiff.writers import OmeTiffWriter

    scenes = [np.stack([pixels(s, c) for c in CHANNELS]) for s in (0, 1)]
    OmeTiffWriter.save(scenes, tmp_path / "two.ome.tiff", dim_order=["CYX"] * 2, channel_names=[CHANNELS] * 2)
    with pytest.raises(ImageReadError, match=r"two\.ome\.tiff: 2 scenes .* one field of view per file"):
        read_manifest("bioio", tmp_path, {})
    (tmp_path / "two.ome.tiff").unlink()
    OmeTiffWriter.save(np.stack([pixels(0, c) for c in CHANNELS]), tmp_path / "twice.ome.tiff", dim_order="CYX", channel_names=["DAPI", "DAPI", "Actin"])
    with pytest.raises(ManifestError, match=r"twice\.ome\.tiff: channel name\(s\) \['DAPI'\] appear more than once"):
        read_manifest("bioio", tmp_path, {})
    (tmp_path / "twice.ome.tiff").unlink()
    for site in ("s1", "s2"):
        write_ome_tiff(tmp_path / "P1" / f"B02_{site}.ome.tiff", 0, CHANNELS)
    with pytest.raises(ManifestError, match=r"B02_s1\.ome\.tiff: Metadata_Site 's1' is not a number"):  # files: one pattern, a string
        read_manifest("bioio", tmp_path, {"pattern": r"(?P<plate>P\d)/(?P<well>B\d\d)_(?P<site>s\d)", "files": "*/*.ome.tiff"})
    with pytest.raises(ManifestError, match=r"ingest\.source\.options\.pattern '\(\?P<well' is not a regular expression"):
        read_manifest("bioio", tmp_path, {"pattern": "(?P<well"})


def test_the_channels_asked_for_are_the_only_ones_each_file_must_have(tmp_path: Path) -> None:
    from bioio_ome_tiff.writers import OmeTiffWriter

    brightfield = np.stack([*(pixels(0, c) for c in CHANNELS), pixels(0, "DAPI")])
    (tmp_path / "P1").mkdir()
    OmeTiffWriter.save(brightfield, tmp_path / "P1" / "A01_s1.ome.tiff", dim_order="CYX", channel_names=[*CHANNELS, "Brightfield"])
    write_ome_tiff(tmp_path / "P1" / "A01_s2.ome.tiff", 1, ["Actin", "DAPI", "Tubulin"])  # no brightfield
    options = {"pattern": r"(?P<plate>P\d)/(?P<well>A\d\d)_s(?P<site>\d)"}
    with pytest.raises(ManifestError, match=r"A01_s2\.ome\.tiff: channel\(s\) \['Brightfield'\] not in"):  # the first file's channels
        read_manifest("bioio", tmp_path, options)
    manifest = read_manifest("bioio", tmp_path, options, channels=CHANNELS)  # ingest.source.channels: these only
    assert manifest["Plane_DAPI"].tolist() == [0, 1] and "Plane_Brightfield" not in manifest

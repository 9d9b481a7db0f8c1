"""Training checkpoints: what a model is (:class:`CheckpointMeta`), written atomically, read with
``weights_only=True``, the newest readable one found for resuming."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from cell_dino import __version__
from cell_dino.core.atomic import atomic_path
from cell_dino.data.channels import ChannelSpec, ChannelStats
from cell_dino.encoders.backbone import BackboneConfig
from cell_dino.encoders.encoder import ENTRY, EncoderMeta
from cell_dino.train.head import HeadConfig

if TYPE_CHECKING:
    from cell_dino.train.train_config import TrainConfig
    from cell_dino.train.training_data import TrainingData

log = logging.getLogger(__name__)
PATTERN = "checkpoint-epoch{epoch:04d}.pt"


def plain(value: Any) -> Any:
    """Containers of str/int/float/bool/None only, as ``weights_only`` loading requires."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


@dataclass(frozen=True)
class CheckpointMeta:
    """What a checkpoint's model is and what it was trained on: architecture, crop sizes, the
    channels and their statistics, the unit (cells or fields), the normalisation, the resolved
    training configuration (``config``, plain) and, for one model of a per-channel run, the data's
    channels (``source_channels``)."""

    architecture: str
    patch_size: int
    crop_sizes: tuple[int, int]  # global, local
    channels: ChannelSpec
    stats: ChannelStats
    unit: str
    normalise: str
    config: dict[str, Any]
    world_size: int = 1
    n_items: int = 0
    n_items_skipped: int = 0  # items of the store left out, their files missing (on_error: skip)
    source_channels: tuple[str, ...] | None = None
    weak_label: str | None = None
    n_weak_labels: int | None = None
    n_singleton_items: int | None = None
    data_generation: str = ""  # the identity of the store the items came from (see cell_dino.core.generation)
    bag_of_channels: bool = False  # one network for every channel, each channel an image (source_channels: the data's)
    version: str = __version__
    torch: str = str(torch.__version__)

    @classmethod
    def of(cls, config: TrainConfig, data: TrainingData, world_size: int) -> CheckpointMeta:
        """What the checkpoints of a run of ``config`` on ``data`` over ``world_size`` processes are."""
        index = data.weak_labels
        return cls(
            architecture=config.backbone.arch,
            patch_size=config.backbone.patch_size,
            crop_sizes=(config.augment.global_crops.size, config.augment.local_crops.size),
            channels=data.channels,
            stats=data.stats,
            unit=data.unit,
            normalise=config.augment.normalise,
            config=plain(asdict(config)),
            world_size=world_size,
            n_items=data.n_items,
            n_items_skipped=data.n_skipped,
            source_channels=data.source_channels,
            weak_label=data.weak_label,
            n_weak_labels=None if index is None else index.n_labels,
            n_singleton_items=None if index is None else index.singletons,
            data_generation=data.generation,
            bag_of_channels=data.bag_of_channels,
        )

    def to_dict(self) -> dict[str, Any]:
        return plain({**asdict(self), "channels": list(self.channels.names), "stats": self.stats.as_dict()})

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CheckpointMeta:
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        source = values.get("source_channels")
        return cls(
            **{
                **known,
                "crop_sizes": tuple(values["crop_sizes"]),
                "channels": ChannelSpec.of(values["channels"]),
                "stats": ChannelStats.from_dict(values["stats"]),
                "source_channels": None if source is None else tuple(source),
                "normalise": values.get("normalise", values["config"]["augment"]["normalise"]),
            }
        )

    def encoder_entry(self) -> dict[str, Any]:
        """The method-neutral :data:`~cell_dino.encoders.encoder.ENTRY` of a checkpoint: the
        teacher's backbone (its ``backbone.`` weights in the ``teacher`` entry), the channels it
        takes, its input side and normalisation; what made it in ``origin``."""
        origin = {"method": "wsdino" if self.weak_label else "dino", "architecture": self.architecture, "version": self.version}
        meta = EncoderMeta("vit", dict(self.config["backbone"]), self.channels.names, self.crop_sizes[0], self.normalise,
                           self.stats.as_dict(), self.unit, self.source_channels, origin, self.bag_of_channels)
        return plain({"meta": meta.to_dict(), "weights": "teacher", "prefix": "backbone."})

    @property
    def backbone(self) -> BackboneConfig:
        return BackboneConfig(**self.config["backbone"])

    @property
    def head(self) -> HeadConfig:
        return HeadConfig(**self.config["head"])

    def require_channels(self, channels: ChannelSpec, source: str) -> None:
        """A checkpoint only fits data with the same channels, in the same order."""
        self.channels.require_same(channels, f"checkpoint {source} vs the data")

    def changes(self, config: dict[str, Any]) -> list[str]:
        """The training settings (``loss``, ``optim``, ``augment``, ``init``) that differ in
        ``config`` (a plain :class:`~cell_dino.train.train_config.TrainConfig`) from this run's."""
        out = []
        for part in ("loss", "optim", "augment", "init"):
            saved, now = self.config.get(part), config.get(part)
            if isinstance(now, dict):
                out += [f"{part}.{k}: {(saved or {}).get(k)!r} -> {v!r}" for k, v in now.items() if (saved or {}).get(k) != v]
            elif saved != now:
                out.append(f"{part}: {saved!r} -> {now!r}")
        return out

    def warn_if_complete_with_other_settings(self, path: Path, epoch: int, config: dict[str, Any]) -> None:
        """A finished run resumed with other settings trains nothing: say so, naming them."""
        if epoch + 1 >= config["optim"]["epochs"] and (changed := self.changes(config)):
            log.warning(
                "%s already holds the whole run (epoch %d), trained with other settings: %s; use runtime.resume: never to retrain",
                path,
                epoch,
                "; ".join(changed),
            )

    def require_same_model(self, backbone: BackboneConfig, head: HeadConfig, source: Path) -> None:
        """Resuming needs the architecture and head the checkpoint was trained with (temperatures,
        schedules and augmentations may change)."""
        saved = {"backbone": self.config.get("backbone", {}), "head": self.config.get("head", {})}
        current = {"backbone": asdict(backbone), "head": asdict(head)}
        differing = [
            f"{part}.{key}: {saved[part].get(key)!r} -> {value!r}"
            for part in current
            for key, value in current[part].items()
            if saved[part].get(key) != value
        ]
        if differing:
            raise ValueError(
                f"cannot resume from {source}: the model parameters changed ({'; '.join(differing)}); "
                "use runtime.resume: never, or clear the run folder"
            )


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be read."""


def save_checkpoint(state: dict[str, Any], directory: Path) -> Path:
    """Write ``state`` as ``checkpoint-epochNNNN.pt`` (temp file + rename) and return its path."""
    path = Path(directory) / PATTERN.format(epoch=state["epoch"])
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint (``weights_only``); an unreadable file (truncated, not a checkpoint) raises
    :class:`CheckpointError` naming it."""
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - truncated zip, pickle garbage, foreign objects: all mean "unreadable"
        raise CheckpointError(f"{path}: unreadable checkpoint, truncated or not a checkpoint ({type(exc).__name__}: {exc})") from exc
    if ENTRY not in state and "meta" in state:  # written before checkpoints described their encoder
        state[ENTRY] = CheckpointMeta.from_dict(state["meta"]).encoder_entry()
    return state


def last_checkpoint(directory: Path) -> Path:
    """The newest checkpoint in ``directory``; raises when training left none."""
    found = checkpoints_in(directory)
    if not found:
        raise RuntimeError(f"no checkpoint in {directory}")
    return found[-1]


def same_data(state: dict[str, Any], generation: str, run_dir: Path) -> bool:
    """Was the checkpoint trained on the store of ``generation``? If not, say that training starts afresh."""
    saved = state["meta"].get("data_generation", "")
    if saved != generation:
        log.warning("the checkpoints in %s were trained on other data (store %s, now %s): training afresh", run_dir, saved, generation)
    return saved == generation


def checkpoints_in(directory: Path) -> list[Path]:
    """Complete checkpoints in ``directory``, oldest epoch first."""
    return sorted(Path(directory).glob("checkpoint-epoch*.pt"))


def latest_loadable(directory: Path, map_location: str | torch.device = "cpu") -> tuple[Path, dict[str, Any]] | None:
    """The newest checkpoint in ``directory`` that can be read, and its state; each newer one that
    cannot is renamed ``<name>.unreadable`` (kept for inspection, out of every listing) with a
    warning naming it. None when there is no readable checkpoint."""
    for path in reversed(checkpoints_in(directory)):
        try:
            return path, load_checkpoint(path, map_location)
        except CheckpointError as error:
            log.warning("%s; resuming from the checkpoint before it", error)
            path.rename(path.with_name(path.name + ".unreadable"))
    return None


def clear_checkpoints(directory: Path, why: str) -> None:
    """Remove every checkpoint in ``directory``, with a log line saying ``why``."""
    old = checkpoints_in(directory)
    if old:
        log.warning("%s: removing %d checkpoint(s) of an earlier run in %s", why, len(old), directory)
    for path in old:
        path.unlink()

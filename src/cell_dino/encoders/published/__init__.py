"""Published cell models read from local weights files into the encoder contract
(:mod:`cell_dino.encoders.encoder`): each module here reads one model's published state-dict layout
and computes the embedding its authors' code computes, their input preprocessing included; the
registry (:data:`cell_dino.encoders.published.model.PUBLISHED`) names them. Nothing is downloaded:
the README's "Published models" lists each file, its origin and licence."""

from cell_dino.encoders.published import celldino, dino4cells, morphem, openphenom, subcell  # noqa: F401 (they register)
from cell_dino.encoders.published.model import PUBLISHED, load_published

__all__ = ["PUBLISHED", "load_published"]

"""cell-dino: unbiased morphology profiles from fluorescence microscopy with DINO and WS-DINO."""

__version__ = "0.1.0"

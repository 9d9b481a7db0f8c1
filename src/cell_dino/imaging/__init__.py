"""Image processing: illumination correction, normalisation, preprocessing streams."""

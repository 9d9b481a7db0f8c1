"""Vision transformers for N-channel images: timm backbones, the DINO head, the multi-crop wrapper."""

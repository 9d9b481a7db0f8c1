"""Features from trained teachers: embeddings, attention maps, patch tokens."""

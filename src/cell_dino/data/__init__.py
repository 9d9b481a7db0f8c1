"""Data contracts, readers, data-set adapters and the synthetic phantom screen."""

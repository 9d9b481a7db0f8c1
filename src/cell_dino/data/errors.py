"""Errors raised for bad input data; each message names the file, row or column at fault."""


class DataError(ValueError):
    """Base class for problems with input data."""


class ManifestError(DataError):
    """The FOV manifest or the table it was built from is invalid."""


class ImageReadError(DataError):
    """An image file is missing, unreadable, truncated or of an unexpected kind."""


class ChannelError(DataError):
    """Channels that do not match: names, order, a map, or a model's channels against the data's."""

"""Errors a user can cause; the CLI turns them into one clear line instead of a traceback."""


class PhazeError(Exception):
    """Base class of every user-facing Phaze error."""


class ConfigError(PhazeError, ValueError):
    """An option, option combination or config file is invalid."""


class DataError(PhazeError):
    """Face folders or images cannot be used."""


class ModelDirError(PhazeError):
    """A model folder is missing, not a Phaze model, or incompatible with the request."""


class WeightsError(PhazeError):
    """Pretrained or transferred weights cannot be found or do not fit."""


class SaveError(PhazeError, OSError):
    """A checkpoint or model file could not be written (disk full, permission denied)."""

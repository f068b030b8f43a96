"""alscell: run an ALS cell-therapy treatment program safely, and evaluate its outcomes honestly."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("alscell")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without installing
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]

"""One GraphQL graph over the Sequence and Gofilex Genie APIs.

The public surface is small: build the app from settings.

    from gateway import Settings, create_app
    app = create_app(Settings.from_env(os.environ))
"""

from gateway.app import create_app
from gateway.config import ConfigError, Settings

__version__ = "0.1.0"

__all__ = ["ConfigError", "Settings", "__version__", "create_app"]

import sys

from services.common.serve import main
from services.explorer.config import ExplorerDaemonSettings
from services.explorer.main import create_app

sys.exit(main("explorer", create_app, ExplorerDaemonSettings, "explorer"))

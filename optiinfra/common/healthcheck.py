"""Container healthcheck of a worker: ``python -m optiinfra.common.healthcheck [max_age_s]``."""

import sys

from .service import heartbeat_fresh
from .settings import get_settings

if __name__ == "__main__":
    max_age = float(sys.argv[1]) if len(sys.argv) > 1 else 15.0
    sys.exit(0 if heartbeat_fresh(get_settings().heartbeat_path, max_age) else 1)

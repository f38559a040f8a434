"""`python -m aws_sim [moto_server options]`: moto's server with the terminated-instance reaper.

``EC2_TERMINATED_RETENTION_S`` (default 300; 0 keeps them forever, as plain moto does).
"""

from __future__ import annotations

import logging
import os
import sys
import threading

from moto.server import main as moto_server

from . import TerminatedReaper

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    retention = float(os.environ.get("EC2_TERMINATED_RETENTION_S", "300"))
    if retention > 0:
        reaper = TerminatedReaper(retention)
        threading.Thread(target=reaper.run_forever, args=(min(30.0, retention), threading.Event()),
                         name="terminated-reaper", daemon=True).start()
    moto_server(sys.argv[1:])

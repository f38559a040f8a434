"""Fast tests of the AWS simulator's additions to moto: moto in-process, no Docker."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "compose" / "aws"))

"""The release-candidate verdict: GO or NO-GO from a run's reports, its target and the
waivers of known failures; ``python -m harness validate-rc`` runs the suite and decides."""

from ._verdict import VERDICT_JSON, VERDICT_MD, Verdict, decide, render_markdown, verdict_for_run
from ._waivers import Waiver, WaiverFileError, load_waivers

__all__ = [
    "VERDICT_JSON",
    "VERDICT_MD",
    "Verdict",
    "Waiver",
    "WaiverFileError",
    "decide",
    "load_waivers",
    "render_markdown",
    "verdict_for_run",
]

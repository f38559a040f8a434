"""The narrative: phases print the story with durations; a failure names its phase."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.unit

STORY = '''
from harness import phase, say

def test_journey(narrative):
    narrative.banner("TESTING THE JOURNEY")
    with phase(1, "Record initial state"):
        say("Initial monthly cost: $1,000")
    with phase(2, "Check savings"):
        assert 1000 - 900 >= 300, "saved $100, expected $300"
'''


def test_story_and_failed_phase_in_report(pytester: pytest.Pytester):
    pytester.makepyfile(STORY)
    result = pytester.runpytest("-s", "-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*TESTING THE JOURNEY*",
        "PHASE 1: Record initial state...",
        "  Initial monthly cost: $1,000",
        "  (0.0s)",
        "PHASE 2: Check savings...",
        "  FAILED in PHASE 2 (Check savings) after *",
        "*failed in PHASE 2: Check savings*",
        "*- failed phase -*",
        "PHASE 1 Record initial state: passed in *",
        "PHASE 2 Check savings: failed in *",
    ])


def test_phase_timings_land_in_junit(pytester: pytest.Pytester):
    pytester.makepyfile(STORY.replace(">= 300", ">= 0"))
    result = pytester.runpytest("-p", "no:randomly", "--junitxml=out.xml")
    result.assert_outcomes(passed=1)
    xml = (pytester.path / "out.xml").read_text()
    assert 'name="phase_1" value="Record initial state: passed' in xml
    assert 'name="phase_2" value="Check savings: passed' in xml

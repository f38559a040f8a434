"""Reports a reader who was not there can follow: failure bundles, the requirement
traceability matrix and the one-page run summary, written by the pytest plugin
``harness.reporting.plugin`` (entry point ``optiinfra_e2e_reports``).

Builds on ``harness.core`` (masking, narrative, status, exceptions) and, for the store
snapshots in a bundle, ``harness.domain``; neither of them imports this package.
"""

from ._bundle import Bundle, BundleFile, BundleWriter, safe_name
from ._evidence import FailedTest, headline, secrets_in, write_failure_bundle
from ._handoff import received_collected, send_collected
from ._markers import CATALOGUE_FILE, REQ_MARKER, check_requirements, requirements_of
from ._records import RecordBook, first_line, outcome
from ._runs import (
    ARTIFACTS_ENV,
    DEFAULT_KEEP_RUNS,
    KEEP_RUNS_ENV,
    NO_BUNDLE_ENV,
    RUN_ENV,
    STAMP_ENV,
    RunSettings,
    prune_runs,
    publish_latest,
    run_id,
    utc_stamp,
)
from ._sessions import SESSIONS_FILE, RunSoFar, combine_sessions, combined_status
from ._summary import render_summary, write_summary
from ._traceability import (
    Catalogue,
    Matrix,
    MatrixRow,
    PhaseTiming,
    Requirement,
    TestRecord,
    build_matrix,
    matrix_to_json,
    matrix_to_markdown,
    merge_records,
    record_from_dict,
    write_matrix,
)

__all__ = [
    "ARTIFACTS_ENV",
    "CATALOGUE_FILE",
    "DEFAULT_KEEP_RUNS",
    "KEEP_RUNS_ENV",
    "NO_BUNDLE_ENV",
    "REQ_MARKER",
    "RUN_ENV",
    "SESSIONS_FILE",
    "STAMP_ENV",
    "Bundle",
    "BundleFile",
    "BundleWriter",
    "Catalogue",
    "FailedTest",
    "Matrix",
    "MatrixRow",
    "PhaseTiming",
    "RecordBook",
    "Requirement",
    "RunSettings",
    "RunSoFar",
    "TestRecord",
    "build_matrix",
    "check_requirements",
    "combine_sessions",
    "combined_status",
    "first_line",
    "headline",
    "matrix_to_json",
    "matrix_to_markdown",
    "merge_records",
    "outcome",
    "prune_runs",
    "publish_latest",
    "received_collected",
    "record_from_dict",
    "render_summary",
    "requirements_of",
    "run_id",
    "safe_name",
    "secrets_in",
    "send_collected",
    "utc_stamp",
    "write_failure_bundle",
    "write_matrix",
    "write_summary",
]

"""The target switch: the same suite against this checkout (``source``), given images
(``images``) or a deployed environment (``url``); what each test needs, as markers.

Builds on harness.core and harness.domain; the pytest side is ``harness.targets.plugin``.
"""

from ._exceptions import MissingImageError, TargetError, TargetFileError
from ._file import DATASTORES, HostPort, TargetFile, key_line, load_target_file
from ._images import (
    ImageRecord,
    archive_images,
    check_images,
    compose_images,
    file_sha256,
    images_for,
    load_archive,
    override_yaml,
    retag,
)
from ._needs import FIXTURE_NEEDS, NEEDS, add_needs, needs_of
from ._remote import DeployedStack
from ._target import (
    ARCHIVE_ENV,
    KINDS,
    PULL_ENV,
    RELEASE_IMAGES,
    REPO_ENV,
    TAG_ENV,
    TARGET_ENV,
    TARGET_FILE_ENV,
    Target,
    UrlEndpoints,
    resolve_target,
)

__all__ = [
    "ARCHIVE_ENV",
    "DATASTORES",
    "FIXTURE_NEEDS",
    "KINDS",
    "NEEDS",
    "PULL_ENV",
    "RELEASE_IMAGES",
    "REPO_ENV",
    "TAG_ENV",
    "TARGET_ENV",
    "TARGET_FILE_ENV",
    "DeployedStack",
    "HostPort",
    "ImageRecord",
    "MissingImageError",
    "Target",
    "TargetError",
    "TargetFile",
    "TargetFileError",
    "UrlEndpoints",
    "add_needs",
    "archive_images",
    "check_images",
    "compose_images",
    "file_sha256",
    "images_for",
    "key_line",
    "load_archive",
    "load_target_file",
    "needs_of",
    "override_yaml",
    "resolve_target",
    "retag",
]

"""Which OptiInfra the suite runs against: ``source`` (this checkout, built), ``images``
(given images, nothing built or mounted) or ``url`` (a deployed environment, no Docker).

Chosen by ``--target`` or ``E2E_TARGET``; a value ending in ``.toml`` is a url target file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from python_on_whales.exceptions import DockerException

from harness.domain import COMPOSE_FILE, Endpoints

from ._exceptions import TargetError
from ._file import DATASTORES, TargetFile, load_target_file
from ._images import (
    ImageRecord,
    archive_images,
    check_images,
    compose_images,
    file_sha256,
    images_for,
    load_archive,
    override_yaml,
)

Kind = Literal["source", "images", "url"]
KINDS: tuple[Kind, ...] = ("source", "images", "url")
TARGET_ENV = "E2E_TARGET"
TARGET_FILE_ENV = "E2E_TARGET_FILE"
TAG_ENV, REPO_ENV, ARCHIVE_ENV = "E2E_IMAGE_TAG", "E2E_IMAGE_REPO", "E2E_IMAGE_ARCHIVE"
# 1: pull a release image the engine lacks (a CI runner validating a registry's tag); the
# test bed is never pulled and compose itself never pulls
PULL_ENV = "E2E_IMAGE_PULL"
# The release's own images, by base name: on the images target these are the given ones.
# Datastores and the AWS simulator are the test bed, not the release: they run from the
# images in the engine (built by `make images`, or loaded from the same archive).
RELEASE_IMAGES = ("platform",)
IMAGES_HINT = ("Load them (`docker load -i <archive>`, or E2E_IMAGE_ARCHIVE), build the test "
               "bed once with `make images`, or check E2E_IMAGE_TAG / E2E_IMAGE_REPO.")
Printer = Callable[[str], None]


@dataclass
class Target:
    kind: Kind = "source"
    image_tag: str | None = None
    image_repo: str | None = None
    archive: Path | None = None
    file: TargetFile | None = None
    images: list[ImageRecord] = field(default_factory=list)
    archive_sha256: str | None = None  # of the archive file itself, set by prepare()
    pull: bool = False  # PULL_ENV

    # -- what it is ------------------------------------------------------------------------

    @property
    def label(self) -> str:
        if self.kind == "images":
            what = f"archive {self.archive}" if self.archive else \
                f"tag {self.image_tag}" + (f" of {self.image_repo}" if self.image_repo else "")
            return f"images ({what})"
        if self.kind == "url" and self.file is not None:
            return f"url ({self.file.name}, {self.file.path})"
        return "source (this checkout, built)"

    @property
    def uses_docker(self) -> bool:
        return self.kind != "url"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "label": self.label,
                               "images": [r.to_json() for r in self.images]}
        if self.kind == "images":
            out.update(image_tag=self.image_tag, image_repo=self.image_repo,
                       archive=str(self.archive) if self.archive else None,
                       archive_sha256=self.archive_sha256)
        if self.file is not None:
            f = self.file
            out["file"] = {"path": str(f.path), "name": f.name, "portal_url": f.portal_url,
                           "orchestrator_url": f.orchestrator_url,
                           "admin_token_env": f.admin_token_env,
                           "datastores": sorted(f.datastores), "aws_url": f.aws_url}
        return out

    # -- what it offers (the markers of harness.targets._needs ask these) -------------------

    def missing_datastores(self, wanted: tuple[str, ...]) -> list[str]:
        if self.file is None:
            return []
        return [s for s in (wanted or DATASTORES) if s not in self.file.datastores]

    @property
    def where(self) -> str:
        return f"target '{self.file.name}' ({self.file.path})" if self.file else self.label

    def lacks(self, need: str, args: tuple[str, ...] = (),
              environ: Mapping[str, str] | None = None) -> str | None:
        """What this target lacks for a test that needs ``need``; None when it has it."""
        if self.file is None:  # source and images run the whole stack
            return None
        env = os.environ if environ is None else environ
        if need == "requires_docker":
            return "a deployed environment: no Docker"
        if need == "destructive":
            return "never against a deployed environment"
        if need == "requires_datastores":
            missing = self.missing_datastores(args)
            if missing:
                return f"no [datastores] {', '.join(missing)}"
        if need == "requires_aws_simulator" and not self.file.aws_url:
            return "no [simulator] aws_url"
        if need == "requires_admin":
            name = self.file.admin_token_env
            if not name:
                return "no admin_token_env"
            if not env.get(name):
                return f"admin_token_env {name} is not set"
        if need == "requires_orchestrator" and not self.file.orchestrator_url:
            return "no orchestrator_url"
        return None

    def skip_reason(self, needs: list[tuple[str, tuple[str, ...]]],
                    environ: Mapping[str, str] | None = None) -> str | None:
        """One line: every need the target lacks, in NEEDS order; None when it has them."""
        lacking = [f"{marker} ({why})" for marker, args in needs
                   if (why := self.lacks(marker, args, environ))]
        return f"{self.where} lacks: " + "; ".join(lacking) if lacking else None

    # -- stack settings and preparation -----------------------------------------------------

    def override_file(self, state_dir: Path, project: str) -> Path:
        return state_dir / f"{project}.images-target.yml"

    def stack_overrides(self, state_dir: Path, project: str) -> dict[str, object]:
        """stack_config() overrides: images -> the compose override, and no build."""
        if self.kind != "images":
            return {}
        path = self.override_file(state_dir, project)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(override_yaml(self.service_images()), encoding="utf-8")
        return {"compose_files": [COMPOSE_FILE, path], "build": False}

    def service_images(self) -> dict[str, str]:
        compose = compose_images(COMPOSE_FILE)
        pinned: dict[str, str] = {}
        if self.archive is not None and not self.image_tag:
            pinned = _pinned_from_archive(self.archive)
        return images_for(compose, compose, RELEASE_IMAGES, self.image_repo, self.image_tag,
                          pinned)

    def prepare(self, docker: Any, out: Printer) -> list[ImageRecord]:
        """images: load the archive, check every image (MissingImageError names the missing
        ones before anything starts), record id and digests. Other kinds: nothing."""
        if self.kind != "images":
            return []
        if self.archive is not None:
            load_archive(docker, self.archive, out)
            self.archive_sha256 = file_sha256(self.archive)
            out(f"[target] {self.archive.name}: {self.archive_sha256}")
        images = self.service_images()
        release = set(_release_services(images))
        if self.pull:
            _pull_missing(docker, sorted({images[s] for s in release}), out)
        from_archive = self.archive is not None and not self.image_tag
        self.images = []
        for r in check_images(docker, images, IMAGES_HINT):
            is_release = bool(release & set(r.services))
            origin = ("loaded from an archive" if is_release and from_archive else
                      "the test bed's image from this engine" if not is_release else
                      "given by tag, not pulled from a registry")
            self.images.append(replace(r, origin=origin))
            if is_release:
                out(f"[target] {r.image}: id {r.id}, {self.images[-1].digest_text}")
        return self.images

    def endpoints(self) -> Endpoints:
        """url: the addresses of the target file (no stack); other kinds use the stack's."""
        if self.file is None:
            raise TargetError(f"target '{self.kind}' takes its endpoints from the stack")
        return UrlEndpoints.from_file(self.file)

    def record(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")


def _pull_missing(docker: Any, images: list[str], out: Printer) -> None:
    for image in images:
        if docker.image.exists(image):
            continue
        out(f"[target] pulling {image} ({PULL_ENV}=1)...")
        try:
            docker.image.pull(image, quiet=True)
        except DockerException as exc:  # the check that follows names the missing image
            tail = (exc.stderr or str(exc)).strip().splitlines()[-1:]
            out(f"[target] could not pull {image}: {' '.join(tail)}")


def _release_services(images: Mapping[str, str]) -> list[str]:
    return [s for s, img in images.items()
            if img.rsplit("/", 1)[-1].split(":", 1)[0] in RELEASE_IMAGES]


def _pinned_from_archive(archive: Path) -> dict[str, str]:
    names = archive_images(archive)
    pinned: dict[str, str] = {}
    for base in RELEASE_IMAGES:
        found = sorted(n for n in names if n.rsplit("/", 1)[-1].split(":", 1)[0] == base)
        if not found:
            raise TargetError(f"E2E_IMAGE_ARCHIVE={archive}: no '{base}' image in it (it holds "
                              f"{', '.join(names) or 'nothing'}); save the release's images "
                              f"by name, e.g. `docker save -o rc.tar optiinfra/{base}:1.4.0-rc2`")
        if len(found) > 1:
            raise TargetError(f"E2E_IMAGE_ARCHIVE={archive}: several '{base}' images "
                              f"({', '.join(found)}); set E2E_IMAGE_TAG to pick one")
        pinned[base] = found[0]
    return pinned


class UrlEndpoints(Endpoints):
    """Endpoints of a deployed environment: full URLs instead of 127.0.0.1 and offset ports.
    A port the file does not give is 0; the tests that need it are skipped beforehand."""

    portal: str = ""
    orchestrator: str = ""
    aws: str = ""
    qdrant_http: str = ""
    postgres_host: str = ""
    redis_host: str = ""

    @classmethod
    def from_file(cls, f: TargetFile, environ: Mapping[str, str] | None = None
                  ) -> UrlEndpoints:
        env = os.environ if environ is None else environ
        ds = f.datastores

        def port(name: str) -> int:
            return ds[name].port if name in ds else 0

        token = env.get(f.admin_token_env, "") if f.admin_token_env else ""
        return cls(
            host=ds["clickhouse"].host if "clickhouse" in ds else "127.0.0.1",
            postgres_port=port("postgres"), clickhouse_http_port=0,
            clickhouse_native_port=port("clickhouse"), redis_port=port("redis"),
            qdrant_port=port("qdrant"), aws_port=0, orchestrator_port=0, portal_port=0,
            admin_token=token,
            portal=f.portal_url, orchestrator=f.orchestrator_url or "", aws=f.aws_url or "",
            qdrant_http=f.qdrant_url or "",
            postgres_host=ds["postgres"].host if "postgres" in ds else "",
            redis_host=ds["redis"].host if "redis" in ds else "")

    @property
    def portal_url(self) -> str:
        return self.portal

    @property
    def orchestrator_url(self) -> str:
        return self.orchestrator

    @property
    def aws_url(self) -> str:
        return self.aws

    @property
    def qdrant_url(self) -> str:
        return self.qdrant_http

    @property
    def postgres_dsn(self) -> str:
        return super().postgres_dsn.replace(f"@{self.host}:", f"@{self.postgres_host}:", 1)

    @property
    def redis_url(self) -> str:
        return f"redis://{self.redis_host}:{self.redis_port}/0"


def resolve_target(option: str | None = None, environ: Mapping[str, str] | None = None
                   ) -> Target:
    """The target from ``--target`` (wins) or E2E_TARGET; TargetError says what is wrong."""
    env = os.environ if environ is None else environ
    value = (option or env.get(TARGET_ENV) or "source").strip()
    if value.endswith(".toml"):
        return Target(kind="url", file=load_target_file(Path(value)))
    if value == "source":
        return Target()
    if value == "url":
        path = env.get(TARGET_FILE_ENV)
        if not path:
            raise TargetError(f"target 'url' needs a target file: set {TARGET_FILE_ENV}="
                              f"targets/<env>.toml, or give the file itself as the target "
                              f"(--target targets/<env>.toml)")
        return Target(kind="url", file=load_target_file(Path(path)))
    if value == "images":
        tag, archive = env.get(TAG_ENV) or None, env.get(ARCHIVE_ENV) or None
        if not tag and not archive:
            raise TargetError(f"target 'images' needs {TAG_ENV} (with {REPO_ENV} for the name "
                              f"prefix, default optiinfra-e2e) or {ARCHIVE_ENV} (a `docker "
                              f"save` tarball)")
        return Target(kind="images", image_tag=tag, image_repo=env.get(REPO_ENV) or None,
                      archive=Path(archive) if archive else None,
                      pull=env.get(PULL_ENV, "") == "1")
    raise TargetError(f"unknown target {value!r} ({TARGET_ENV} or --target): one of "
                      f"{', '.join(KINDS)}, or the path of a url target file (*.toml)")

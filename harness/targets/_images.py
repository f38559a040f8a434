"""The images target's Docker side: a ``docker save`` archive, the images a stack needs, and
the compose override that runs them with nothing built or pulled.

Generic: knows compose files and image names, nothing of OptiInfra.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml  # pulled in by schemathesis and moto; compose files are YAML

from ._exceptions import MissingImageError, TargetError

Printer = Callable[[str], None]


@dataclass(frozen=True)
class ImageRecord:
    """What a service ran: the image it was given, the engine's id (the sha256 digest of the
    image's config) and the registry digests, when the image came from a registry."""

    image: str
    services: tuple[str, ...]
    id: str
    repo_digests: tuple[str, ...] = ()
    # where the image came from when it has no registry digest (``docker save``/``load``
    # and local builds carry none), so the verdict says so instead of leaving a blank
    origin: str = ""

    @property
    def digest_text(self) -> str:
        if self.repo_digests:
            return ", ".join(self.repo_digests)
        return f"no registry digest: {self.origin or 'not pulled from a registry'}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["services"] = list(self.services)
        data["repo_digests"] = list(self.repo_digests)
        data["digest_text"] = self.digest_text
        return data


def compose_images(compose_file: Path) -> dict[str, str]:
    """service -> image, from a compose file (every service must name its image)."""
    data = yaml.safe_load(compose_file.read_text(encoding="utf-8")) or {}
    out: dict[str, str] = {}
    for name, svc in (data.get("services") or {}).items():
        image = (svc or {}).get("image")
        if not image:
            raise TargetError(f"{compose_file}: service '{name}' has no image: key, so the "
                              f"images target cannot tell what to run instead of building it")
        out[name] = str(image)
    return out


def retag(image: str, repo: str | None, tag: str) -> str:
    """``optiinfra-e2e/platform:local`` -> ``<repo or optiinfra-e2e>/platform:<tag>``."""
    name = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    prefix, _, base = name.rpartition("/")
    return f"{repo.rstrip('/') if repo else prefix}/{base}:{tag}" if (repo or prefix) \
        else f"{base}:{tag}"


def override_yaml(images: Mapping[str, str]) -> str:
    """A compose override: each service runs the given image; no build section (``!reset``,
    Compose >= 2.18) and no pull, so a missing image fails instead of being built."""
    lines = ["# Written by the harness for the images target: nothing is built or pulled.",
             "services:"]
    for service, image in sorted(images.items()):
        lines += [f"  {service}:", f"    image: {json.dumps(image)}",
                  "    pull_policy: never", "    build: !reset null"]
    return "\n".join(lines) + "\n"


def archive_images(archive: Path) -> list[str]:
    """The image names (RepoTags) a ``docker save`` archive holds, read from its manifest."""
    if not archive.is_file():
        raise TargetError(f"E2E_IMAGE_ARCHIVE={archive}: no such file; give a tarball made by "
                          f"`docker save -o <file> <image> ...`")
    try:
        with tarfile.open(archive) as tar:
            member = tar.extractfile("manifest.json")
            manifest = json.load(member) if member else []
    except (tarfile.TarError, KeyError, json.JSONDecodeError) as exc:
        raise TargetError(f"E2E_IMAGE_ARCHIVE={archive}: not a `docker save` archive "
                          f"(no readable manifest.json: {exc})") from exc
    return [tag for entry in manifest for tag in (entry.get("RepoTags") or [])]


def file_sha256(path: Path) -> str:
    """``sha256:<hex>`` of a file (the archive a release manager was handed)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def load_archive(docker: Any, archive: Path, out: Printer) -> list[str]:
    """``docker load`` the archive unless every image in it is already in the engine."""
    names = archive_images(archive)
    if not names:
        raise TargetError(f"E2E_IMAGE_ARCHIVE={archive}: the archive names no image (save "
                          f"by name, `docker save -o <file> repo/name:tag`, not by id)")
    if all(docker.image.exists(n) for n in names):
        out(f"[target] images of {archive.name} already loaded: {', '.join(names)}")
        return names
    size = archive.stat().st_size / 2**20
    out(f"[target] loading {archive.name} ({size:.0f} MiB: {', '.join(names)})...")
    docker.image.load(str(archive))
    return names


def check_images(docker: Any, images: Mapping[str, str], hint: str) -> list[ImageRecord]:
    """Every image the services need, present in the engine: its id and digests. A missing
    one is a MissingImageError naming it (and its services) before anything starts."""
    by_image: dict[str, list[str]] = {}
    for service, image in images.items():
        by_image.setdefault(image, []).append(service)
    missing = {img: ", ".join(sorted(svcs)) for img, svcs in by_image.items()
               if not docker.image.exists(img)}
    if missing:
        raise MissingImageError(missing, hint)
    records = []
    for img, svcs in sorted(by_image.items()):
        inspected = docker.image.inspect(img)
        records.append(ImageRecord(image=img, services=tuple(sorted(svcs)),
                                   id=str(inspected.id),
                                   repo_digests=tuple(inspected.repo_digests or ())))
    return records


def images_for(services: Iterable[str], compose: Mapping[str, str],
               release_images: Iterable[str], repo: str | None, tag: str | None,
               pinned: Mapping[str, str] | None = None) -> dict[str, str]:
    """service -> image on the images target: the release's images (by base name, e.g.
    ``platform``) retagged, or pinned to names found in an archive; the rest unchanged."""
    release = set(release_images)
    pinned = pinned or {}
    out = {}
    for service in services:
        image = compose[service]
        base = image.rsplit("/", 1)[-1].split(":", 1)[0]
        if base in release and base in pinned:
            out[service] = pinned[base]
        elif base in release and tag:
            out[service] = retag(image, repo, tag)
        else:
            out[service] = image
    return out

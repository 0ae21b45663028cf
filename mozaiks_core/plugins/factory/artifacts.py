"""Reading staged artifacts from a folder, a zip or a tar archive, refusing anything unsafe.

Every path must stay inside the artifact root (no ``..``, no absolute path, no drive letter, no
symlink or hard link, no device), the total size and the file count are capped (from the archive's
own headers, before anything is extracted, and again while reading), and only the folders of the
app-workspace contract may be written.
"""

from __future__ import annotations

import os
import re
import stat
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# Top-level names of the app-workspace contract a builder may stage.
WORKSPACE_ENTRIES = frozenset({"app.json", "provenance.yaml", "config", "ui", "workflows", "modules", "brand",
                               "backend", "services", "data", "admin"})
IGNORED_PARTS = frozenset({"__pycache__", ".DS_Store", ".git"})


@dataclass(frozen=True)
class Limits:
    """Caps of one staged change."""

    max_bytes: int
    max_files: int


class ArtifactRefused(ValueError):
    """A staged artifact that is refused; ``file`` names it and ``reason`` says why and what to do."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason


def workspace_path(name: str, where: str) -> str | None:
    """The normalised relative path of an artifact entry, None for ignored entries; refuses unsafe ones."""
    if "\\" in name or re.match(r"^[A-Za-z]:", name) or name.startswith("/"):
        raise ArtifactRefused(f"{where}:{name}", "absolute paths are refused; write paths relative to the "
                                                 "workspace root (ui/pages/x.yaml)")
    parts = [part for part in PurePosixPath(name).parts if part not in ("", ".")]
    if ".." in parts:
        raise ArtifactRefused(f"{where}:{name}", "the path leaves the staging root through '..'; refused")
    if not parts or IGNORED_PARTS.intersection(parts):
        return None
    return "/".join(parts)


def _strip_app_prefix(files: dict[str, bytes]) -> dict[str, bytes]:
    """Archives of a whole ``app/`` folder are read as the workspace root itself."""
    if files and all(path.startswith("app/") for path in files):
        return {path[len("app/"):]: data for path, data in files.items()}
    return files


def _check_targets(files: dict[str, bytes], where: str) -> dict[str, bytes]:
    files = _strip_app_prefix(files)
    for path in files:
        top = path.split("/")[0]
        if top not in WORKSPACE_ENTRIES:
            raise ArtifactRefused(f"{where}:{path}",
                                  f"'{top}' is not part of the app workspace; stage only "
                                  f"{', '.join(sorted(WORKSPACE_ENTRIES))}")
    if not files:
        raise ArtifactRefused(where, "no files to stage")
    return files


def _budget(total: int, count: int, limits: Limits, where: str) -> None:
    if total > limits.max_bytes:
        raise ArtifactRefused(where, f"the artifacts hold {total} bytes, over the limit of {limits.max_bytes} "
                                     "(MOZAIKS_STAGING_MAX_BYTES); nothing was extracted")
    if count > limits.max_files:
        raise ArtifactRefused(where, f"the artifacts hold {count} files, over the limit of {limits.max_files} "
                                     "(MOZAIKS_STAGING_MAX_FILES); nothing was extracted")


def read_directory(root: Path, limits: Limits) -> dict[str, bytes]:
    """Every file under ``root`` by relative path; a symlink anywhere is refused."""
    where = str(root)
    if root.is_symlink():
        raise ArtifactRefused(where, "the artifact folder is a symlink; stage the real folder")
    entries: list[tuple[str, Path, int]] = []
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        for name in [*dirnames, *filenames]:
            path = Path(directory) / name
            relative = path.relative_to(root).as_posix()
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise ArtifactRefused(f"{where}:{relative}", "symlinks are refused (one could point outside the "
                                                             "staging root); copy the file instead")
            if name in filenames and not stat.S_ISREG(mode):
                raise ArtifactRefused(f"{where}:{relative}", "only regular files can be staged")
            if name in filenames and workspace_path(relative, where) is not None:
                entries.append((relative, path, path.lstat().st_size))
    _budget(sum(size for _, _, size in entries), len(entries), limits, where)
    return _check_targets({relative: path.read_bytes() for relative, path, _ in entries}, where)


def read_archive(archive: Path, limits: Limits) -> dict[str, bytes]:
    """The files of a ``.zip`` or ``.tar[.gz|.bz2|.xz]`` archive, checked before extraction."""
    where = archive.name
    size = archive.stat().st_size
    if size > limits.max_bytes:
        raise ArtifactRefused(where, f"the archive is {size} bytes, over the limit of {limits.max_bytes} "
                                     "(MOZAIKS_STAGING_MAX_BYTES); it was not opened")
    if zipfile.is_zipfile(archive):
        return _check_targets(_read_zip(archive, limits, where), where)
    try:
        with tarfile.open(archive) as tar:
            return _check_targets(_read_tar(tar, limits, where), where)
    except tarfile.TarError as exc:
        raise ArtifactRefused(where, f"not a zip or tar archive ({exc})") from exc


def _read_zip(archive: Path, limits: Limits, where: str) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as bundle:
        members = []
        for info in bundle.infolist():
            kind = stat.S_IFMT(info.external_attr >> 16)
            if kind == stat.S_IFLNK:
                raise ArtifactRefused(f"{where}:{info.filename}", "symlinks are refused; store the file itself")
            path = workspace_path(info.filename, where)
            if path is not None and not info.is_dir():
                members.append((path, info))
        _budget(sum(info.file_size for _, info in members), len(members), limits, where)
        files: dict[str, bytes] = {}
        for path, info in members:
            with bundle.open(info) as stream:
                data = stream.read(info.file_size + 1)
            if len(data) != info.file_size:
                raise ArtifactRefused(f"{where}:{info.filename}", "the entry's size does not match its header; "
                                                                  "the archive is corrupt or forged")
            files[path] = data
        return files


def _read_tar(tar: tarfile.TarFile, limits: Limits, where: str) -> dict[str, bytes]:
    members = []
    total = 0
    for member in tar:
        if member.issym() or member.islnk():
            raise ArtifactRefused(f"{where}:{member.name}", "symlinks and hard links are refused; store the file "
                                                            "itself")
        if not (member.isfile() or member.isdir()):
            raise ArtifactRefused(f"{where}:{member.name}", "only regular files and folders can be staged")
        path = workspace_path(member.name, where)
        if path is not None and member.isfile():
            total += member.size
            members.append((path, member))
            _budget(total, len(members), limits, where)
    files: dict[str, bytes] = {}
    for path, member in members:
        stream = tar.extractfile(member)
        data = stream.read(member.size + 1) if stream is not None else b""
        if len(data) != member.size:
            raise ArtifactRefused(f"{where}:{member.name}", "the entry's size does not match its header")
        files[path] = data
    return files


def read_mapping(files: dict[str, str | bytes], limits: Limits, where: str = "api") -> dict[str, bytes]:
    """Artifacts handed over in memory (the runtime API a builder workflow's tool calls)."""
    checked: dict[str, bytes] = {}
    for name, content in files.items():
        path = workspace_path(name, where)
        if path is not None:
            checked[path] = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    _budget(sum(map(len, checked.values())), len(checked), limits, where)
    return _check_targets(checked, where)

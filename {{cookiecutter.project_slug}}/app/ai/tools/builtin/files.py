"""Read, write and list files inside a per-user sandbox directory, and nowhere else.

Each user gets `<sandbox folder>/<user id>/`, the folder being `TOOLS_SANDBOX_DIR`. Paths
must be relative and free of `..`; after resolving symlinks the result must still lie
inside that directory, and files are opened with `O_NOFOLLOW`, so a link planted inside
the sandbox cannot lead out of it. Sizes are capped per file and per user, and so are
the number of files and folders and how deep folders nest.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import uuid
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated, Any

from pydantic import Field

from app.ai.tools.base import ArgsT, Tool, ToolArguments, ToolContext, ToolError

DEFAULT_MAX_FILE_BYTES = 1_000_000
DEFAULT_QUOTA_BYTES = 50_000_000
DEFAULT_MAX_ENTRIES = 1_000
DEFAULT_MAX_DEPTH = 8
MAX_LIST_ENTRIES = 1_000
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)

SandboxPath = Annotated[
    str,
    Field(
        min_length=1,
        max_length=1024,
        description="A path relative to your sandbox, e.g. 'notes/a.txt'.",
    ),
]


def user_root(sandbox_dir: Path, user_id: uuid.UUID) -> Path:
    """One user's sandbox directory, created on first use, so users never see each other's."""
    root = sandbox_dir / str(user_id)
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve(strict=True)


def resolve_in_sandbox(root: Path, relative: str) -> Path:
    """The real path `relative` names inside `root`, or a `ToolError` if it would leave it."""
    if "\x00" in relative:
        raise ToolError("Paths cannot contain NUL characters")
    pure = PurePosixPath(relative)
    if pure.is_absolute() or PureWindowsPath(relative).anchor:
        raise ToolError(f"Absolute paths are not allowed ({relative!r}); use a relative path")
    if ".." in pure.parts or ".." in PureWindowsPath(relative).parts:
        raise ToolError(f"'..' is not allowed in paths ({relative!r})")
    resolved = (root / pure).resolve()
    if not resolved.is_relative_to(root):
        raise ToolError(f"{relative!r} leads outside the sandbox")
    return resolved


def _display(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix() or "."


class _SandboxedTool(Tool[ArgsT]):
    """Shared folder and limits of the file tools."""

    timeout_seconds = 10.0

    def __init__(
        self,
        sandbox_dir: Path,
        *,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        quota_bytes: int = DEFAULT_QUOTA_BYTES,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        """`max_file_bytes` caps one read or write; `quota_bytes` caps a user's whole sandbox.

        `max_entries` caps the files and folders a user may have, `max_depth` how deep a
        file may sit, so neither inodes nor directory scans grow without bound.
        """
        self.sandbox_dir = sandbox_dir
        self.max_file_bytes = max_file_bytes
        self.quota_bytes = quota_bytes
        self.max_entries = max_entries
        self.max_depth = max_depth

    def root_for(self, context: ToolContext) -> Path:
        """The calling user's sandbox directory."""
        return user_root(self.sandbox_dir, context.user_id)


class ReadFileArgs(ToolArguments):
    """A path inside the sandbox; anything leading out of it is refused."""

    path: SandboxPath


class ReadFileTool(_SandboxedTool[ReadFileArgs]):
    """Gives a model back what it (or its user) saved earlier."""

    name = "read_file"
    description = "Read a text file from your sandbox directory (large files are truncated)."
    arguments = ReadFileArgs

    async def run(self, args: ReadFileArgs, context: ToolContext) -> str:
        """Read in a worker thread: file I/O would block the event loop."""
        return await asyncio.to_thread(self._read, context, args.path)

    def _read(self, context: ToolContext, relative: str) -> str:
        root = self.root_for(context)
        path = resolve_in_sandbox(root, relative)
        try:
            fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK)
        except FileNotFoundError:
            raise ToolError(f"No such file: {relative!r}") from None
        except OSError as exc:
            raise ToolError(f"Cannot open {relative!r}: {exc.strerror}") from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            if stat.S_ISDIR(info.st_mode):
                raise ToolError(f"{relative!r} is a directory; use list_files")
            raise ToolError(f"{relative!r} is not a regular file")
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(self.max_file_bytes + 1)
        text = data[: self.max_file_bytes].decode("utf-8", errors="replace")
        if len(data) > self.max_file_bytes:
            text += (
                f"\n[truncated: showing the first {self.max_file_bytes} of {info.st_size} bytes]"
            )
        return text


class WriteFileArgs(ToolArguments):
    """A sandbox path and its new text, capped at one file's size limit."""

    path: SandboxPath
    content: str = Field(max_length=DEFAULT_MAX_FILE_BYTES, description="The text to write.")
    append: bool = Field(default=False, description="Add to the end instead of replacing.")


class WriteFileTool(_SandboxedTool[WriteFileArgs]):
    """Lets a model keep notes and results between turns, within a quota."""

    name = "write_file"
    description = (
        "Write a UTF-8 text file in your sandbox directory, creating folders as needed; "
        "replaces the file unless append is true."
    )
    arguments = WriteFileArgs

    async def run(self, args: WriteFileArgs, context: ToolContext) -> str:
        """Write in a worker thread: file I/O would block the event loop."""
        return await asyncio.to_thread(self._write, context, args)

    def _write(self, context: ToolContext, args: WriteFileArgs) -> str:
        root = self.root_for(context)
        path = resolve_in_sandbox(root, args.path)
        if path == root:
            raise ToolError("Give a file name, not the sandbox itself")
        depth = len(path.relative_to(root).parts)
        if depth > self.max_depth:
            raise ToolError(f"Files may sit at most {self.max_depth} folders deep")
        data = args.content.encode("utf-8")
        existing = _regular_file_size(path, args.path)
        final_size = existing + len(data) if args.append else len(data)
        if final_size > self.max_file_bytes:
            raise ToolError(f"Files are limited to {self.max_file_bytes} bytes")
        used_bytes, used_entries = _usage(root)
        if used_bytes - existing + final_size > self.quota_bytes:
            raise ToolError(f"Your sandbox is limited to {self.quota_bytes} bytes in total")
        new_entries = sum(1 for item in (path, *path.parents) if not item.exists() and item != root)
        if used_entries + new_entries > self.max_entries:
            raise ToolError(f"Your sandbox is limited to {self.max_entries} files and folders")
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | _NOFOLLOW | _NONBLOCK
        flags |= os.O_APPEND if args.append else os.O_TRUNC
        try:
            fd = os.open(path, flags, 0o640)
        except OSError as exc:
            raise ToolError(f"Cannot write {args.path!r}: {exc.strerror}") from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        verb = "Appended" if args.append else "Wrote"
        return f"{verb} {len(data)} bytes to {_display(root, path)}"


def _regular_file_size(path: Path, relative: str) -> int:
    """The size of an existing regular file, 0 if there is none, an error for anything else."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return 0
    if not stat.S_ISREG(info.st_mode):
        raise ToolError(f"{relative!r} exists and is not a regular file")
    return info.st_size


def _usage(root: Path) -> tuple[int, int]:
    """Bytes used by regular files under `root`, and how many entries it holds; no links followed."""
    total, entries = 0, 0
    for directory, dirs, files in os.walk(root):
        entries += len(dirs) + len(files)
        for name in files:
            info = os.lstat(os.path.join(directory, name))
            if stat.S_ISREG(info.st_mode):
                total += info.st_size
    return total, entries


class ListFilesArgs(ToolArguments):
    """A sandbox folder, listed alone or with everything below it."""

    path: str = Field(default=".", min_length=1, max_length=1024, description="A folder.")
    recursive: bool = Field(default=False, description="Include every subfolder's contents.")


class ListFilesTool(_SandboxedTool[ListFilesArgs]):
    """Shows a model what its sandbox holds, links as links."""

    name = "list_files"
    description = "List the files and folders in a folder of your sandbox directory."
    arguments = ListFilesArgs

    async def run(self, args: ListFilesArgs, context: ToolContext) -> str:
        """List in a worker thread: directory scans would block the event loop."""
        return await asyncio.to_thread(self._list, context, args)

    def _list(self, context: ToolContext, args: ListFilesArgs) -> str:
        root = self.root_for(context)
        folder = resolve_in_sandbox(root, args.path)
        if not folder.is_dir():
            raise ToolError(f"{args.path!r} is not a folder")
        entries: list[dict[str, Any]] = []
        # os.walk does not descend into linked folders, so a link out is listed, not followed.
        for directory, dirs, files in os.walk(folder):
            dirs.sort()
            entries.extend(_entry(root, Path(directory) / name) for name in sorted(dirs + files))
            if not args.recursive or len(entries) > MAX_LIST_ENTRIES:
                break
        truncated = len(entries) > MAX_LIST_ENTRIES
        return json.dumps(
            {
                "path": _display(root, folder),
                "entries": entries[:MAX_LIST_ENTRIES],
                "truncated": truncated,
            }
        )


def _entry(root: Path, path: Path) -> dict[str, Any]:
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        return {"path": _display(root, path), "type": "link"}
    if stat.S_ISDIR(info.st_mode):
        return {"path": _display(root, path), "type": "folder"}
    return {"path": _display(root, path), "type": "file", "size": info.st_size}

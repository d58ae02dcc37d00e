"""The file tools: a per-user sandbox with no way out by path, '..' or symlink."""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.ai.tools.base import ToolContext, ToolError
from app.ai.tools.builtin.files import (
    ListFilesArgs,
    ListFilesTool,
    ReadFileArgs,
    ReadFileTool,
    WriteFileArgs,
    WriteFileTool,
    user_root,
)


@dataclass(frozen=True)
class Files:
    """The three file tools on one sandbox folder, run as one user."""

    sandbox_dir: Path
    context: ToolContext

    def as_user(self, user_id: uuid.UUID) -> Files:
        return dataclasses.replace(self, context=dataclasses.replace(self.context, user_id=user_id))

    @property
    def root(self) -> Path:
        return user_root(self.sandbox_dir, self.context.user_id)

    async def write(self, path: str, content: str, **options: bool) -> str:
        tool = WriteFileTool(self.sandbox_dir)
        return await tool.run(WriteFileArgs(path=path, content=content, **options), self.context)

    async def read(self, path: str) -> str:
        return await ReadFileTool(self.sandbox_dir).run(ReadFileArgs(path=path), self.context)

    async def listing(self, path: str = ".", recursive: bool = False) -> dict[str, Any]:
        tool = ListFilesTool(self.sandbox_dir)
        answer = await tool.run(ListFilesArgs(path=path, recursive=recursive), self.context)
        entries: dict[str, Any] = json.loads(answer)
        return entries


@pytest.fixture
def files(tmp_path: Path, tool_context: ToolContext) -> Files:
    return Files(sandbox_dir=tmp_path / "sandbox", context=tool_context)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory outside every sandbox, holding a file no tool may reach."""
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "secret.txt").write_text("TOP SECRET")
    return secret


def untouched(outside: Path) -> bool:
    return [p.name for p in outside.iterdir()] == ["secret.txt"] and (
        (outside / "secret.txt").read_text() == "TOP SECRET"
    )


async def test_write_read_and_list_round_trip(files: Files) -> None:
    assert await files.write("notes/today.txt", "héllo") == ("Wrote 6 bytes to notes/today.txt")
    assert await files.write("notes/today.txt", " world", append=True) == (
        "Appended 6 bytes to notes/today.txt"
    )
    assert await files.read("notes/today.txt") == "héllo world"
    assert await files.read("./notes//today.txt") == "héllo world"
    top = await files.listing()
    assert top == {
        "path": ".",
        "entries": [{"path": "notes", "type": "folder"}],
        "truncated": False,
    }
    nested = await files.listing(recursive=True)
    assert nested["entries"] == [
        {"path": "notes", "type": "folder"},
        {"path": "notes/today.txt", "type": "file", "size": 12},
    ]


async def test_each_user_has_a_separate_sandbox(files: Files) -> None:
    other = files.as_user(uuid.uuid4())
    await files.write("mine.txt", "private")
    assert (await other.listing())["entries"] == []
    with pytest.raises(ToolError, match="No such file"):
        await other.read("mine.txt")
    with pytest.raises(ToolError, match=r"'\.\.' is not allowed"):
        await other.read(f"../{files.context.user_id}/mine.txt")
    root = files.root
    assert root.parent == files.sandbox_dir.resolve()
    assert root.name == str(files.context.user_id)


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "/", "C:\\Windows\\win.ini", "\\\\server\\share\\x"]
)
async def test_absolute_paths_are_refused(files: Files, path: str) -> None:
    with pytest.raises(ToolError, match="Absolute paths are not allowed"):
        await files.read(path)
    with pytest.raises(ToolError, match="Absolute paths are not allowed"):
        await files.write(path, "x")
    with pytest.raises(ToolError, match="Absolute paths are not allowed"):
        await files.listing(path)


@pytest.mark.parametrize("path", ["..", "../x", "a/../../x", "a/..", "a\\..\\..\\x"])
async def test_parent_traversal_is_refused(files: Files, path: str) -> None:
    with pytest.raises(ToolError, match=r"'\.\.' is not allowed"):
        await files.read(path)
    with pytest.raises(ToolError, match=r"'\.\.' is not allowed"):
        await files.write(path, "x")
    with pytest.raises(ToolError, match=r"'\.\.' is not allowed"):
        await files.listing(path)


async def test_nul_bytes_are_refused(files: Files) -> None:
    with pytest.raises(ToolError, match="NUL"):
        await files.read("a\x00b")


async def test_a_symlink_out_of_the_sandbox_is_not_followed(files: Files, outside: Path) -> None:
    root = files.root
    (root / "escape").symlink_to(outside)
    (root / "secret-link.txt").symlink_to(outside / "secret.txt")
    for path in ("escape/secret.txt", "secret-link.txt"):
        with pytest.raises(ToolError, match="leads outside the sandbox"):
            await files.read(path)
        with pytest.raises(ToolError, match="leads outside the sandbox"):
            await files.write(path, "overwritten")
    with pytest.raises(ToolError, match="leads outside the sandbox"):
        await files.write("escape/new.txt", "planted")
    with pytest.raises(ToolError, match="leads outside the sandbox"):
        await files.listing("escape")
    assert untouched(outside)
    # Listing shows the links as links and never walks into them.
    entries = (await files.listing(recursive=True))["entries"]
    assert entries == [
        {"path": "escape", "type": "link"},
        {"path": "secret-link.txt", "type": "link"},
    ]


async def test_a_symlink_that_stays_inside_works(files: Files) -> None:
    await files.write("real/data.txt", "inside")
    root = files.root
    (root / "alias").symlink_to(root / "real")
    assert await files.read("alias/data.txt") == "inside"


async def test_a_link_to_another_users_sandbox_is_refused(files: Files) -> None:
    other = files.as_user(uuid.uuid4())
    await other.write("theirs.txt", "not yours")
    (files.root / "peek").symlink_to(other.root)
    with pytest.raises(ToolError, match="leads outside the sandbox"):
        await files.read("peek/theirs.txt")


async def test_reads_are_capped(files: Files) -> None:
    (files.root / "big.txt").write_text("x" * 50)
    text = await ReadFileTool(files.sandbox_dir, max_file_bytes=10).run(
        ReadFileArgs(path="big.txt"), files.context
    )
    assert text == "x" * 10 + "\n[truncated: showing the first 10 of 50 bytes]"


async def test_writes_are_capped_per_file_and_per_user(files: Files) -> None:
    small = WriteFileTool(files.sandbox_dir, max_file_bytes=10, quota_bytes=25)
    await small.run(WriteFileArgs(path="a.txt", content="1234567890"), files.context)
    with pytest.raises(ToolError, match="limited to 10 bytes"):
        await small.run(WriteFileArgs(path="b.txt", content="12345678901"), files.context)
    with pytest.raises(ToolError, match="limited to 10 bytes"):
        await small.run(WriteFileArgs(path="a.txt", content="x", append=True), files.context)
    await small.run(WriteFileArgs(path="b.txt", content="1234567890"), files.context)
    with pytest.raises(ToolError, match="sandbox is limited to 25 bytes"):
        await small.run(WriteFileArgs(path="c.txt", content="1234567890"), files.context)
    # Replacing a file counts its new size, not both.
    await small.run(WriteFileArgs(path="b.txt", content="0987654321"), files.context)


async def test_folders_and_missing_files_are_explained(files: Files) -> None:
    await files.write("folder/file.txt", "x")
    with pytest.raises(ToolError, match="is a directory"):
        await files.read("folder")
    with pytest.raises(ToolError, match="No such file"):
        await files.read("missing.txt")
    with pytest.raises(ToolError, match="not the sandbox itself"):
        await files.write(".", "x")
    with pytest.raises(ToolError, match="not a regular file"):
        await files.write("folder", "x")
    with pytest.raises(ToolError, match="is not a folder"):
        await files.listing("folder/file.txt")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
async def test_special_files_are_not_opened(files: Files) -> None:
    os.mkfifo(files.root / "pipe")
    with pytest.raises(ToolError, match="not a regular file"):
        await files.read("pipe")
    with pytest.raises(ToolError, match="not a regular file"):
        await files.write("pipe", "x")


async def test_the_number_of_files_and_folders_is_capped(files: Files) -> None:
    few = WriteFileTool(files.sandbox_dir, max_entries=3)

    await few.run(WriteFileArgs(path="a.txt", content="1"), files.context)
    await few.run(WriteFileArgs(path="notes/b.txt", content="2"), files.context)
    with pytest.raises(ToolError, match="limited to 3 files and folders"):
        await few.run(WriteFileArgs(path="c.txt", content="3"), files.context)
    # Rewriting an existing file adds nothing, so it is still allowed.
    await few.run(WriteFileArgs(path="a.txt", content="again"), files.context)

    assert sorted(p.name for p in files.root.rglob("*")) == ["a.txt", "b.txt", "notes"]


async def test_folders_nest_only_so_deep(files: Files) -> None:
    shallow = WriteFileTool(files.sandbox_dir, max_depth=3)

    await shallow.run(WriteFileArgs(path="a/b/c.txt", content="ok"), files.context)
    with pytest.raises(ToolError, match="at most 3 folders deep"):
        await shallow.run(WriteFileArgs(path="a/b/c/d.txt", content="deep"), files.context)

    assert not (files.root / "a" / "b" / "c").exists()

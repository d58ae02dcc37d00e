"""The file tools: a per-user sandbox with no way out by path, '..' or symlink."""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
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


async def write(context: ToolContext, path: str, content: str, **options: bool) -> str:
    return await WriteFileTool().run(WriteFileArgs(path=path, content=content, **options), context)


async def read(context: ToolContext, path: str) -> str:
    return await ReadFileTool().run(ReadFileArgs(path=path), context)


async def listing(context: ToolContext, path: str = ".", recursive: bool = False) -> dict[str, Any]:
    answer = await ListFilesTool().run(ListFilesArgs(path=path, recursive=recursive), context)
    entries: dict[str, Any] = json.loads(answer)
    return entries


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


async def test_write_read_and_list_round_trip(tool_context: ToolContext) -> None:
    assert await write(tool_context, "notes/today.txt", "héllo") == (
        "Wrote 6 bytes to notes/today.txt"
    )
    assert await write(tool_context, "notes/today.txt", " world", append=True) == (
        "Appended 6 bytes to notes/today.txt"
    )
    assert await read(tool_context, "notes/today.txt") == "héllo world"
    assert await read(tool_context, "./notes//today.txt") == "héllo world"
    top = await listing(tool_context)
    assert top == {
        "path": ".",
        "entries": [{"path": "notes", "type": "folder"}],
        "truncated": False,
    }
    nested = await listing(tool_context, recursive=True)
    assert nested["entries"] == [
        {"path": "notes", "type": "folder"},
        {"path": "notes/today.txt", "type": "file", "size": 12},
    ]


async def test_each_user_has_a_separate_sandbox(tool_context: ToolContext) -> None:
    other = dataclasses.replace(tool_context, user_id=uuid.uuid4())
    await write(tool_context, "mine.txt", "private")
    assert (await listing(other))["entries"] == []
    with pytest.raises(ToolError, match="No such file"):
        await read(other, "mine.txt")
    with pytest.raises(ToolError, match=r"'\.\.' is not allowed"):
        await read(other, f"../{tool_context.user_id}/mine.txt")
    root = user_root(tool_context)
    assert root.parent == tool_context.settings.tools_sandbox_dir.resolve()
    assert root.name == str(tool_context.user_id)


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "/", "C:\\Windows\\win.ini", "\\\\server\\share\\x"]
)
async def test_absolute_paths_are_refused(tool_context: ToolContext, path: str) -> None:
    with pytest.raises(ToolError, match="Absolute paths are not allowed"):
        await read(tool_context, path)
    with pytest.raises(ToolError, match="Absolute paths are not allowed"):
        await write(tool_context, path, "x")
    with pytest.raises(ToolError, match="Absolute paths are not allowed"):
        await listing(tool_context, path)


@pytest.mark.parametrize("path", ["..", "../x", "a/../../x", "a/..", "a\\..\\..\\x"])
async def test_parent_traversal_is_refused(tool_context: ToolContext, path: str) -> None:
    with pytest.raises(ToolError, match=r"'\.\.' is not allowed"):
        await read(tool_context, path)
    with pytest.raises(ToolError, match=r"'\.\.' is not allowed"):
        await write(tool_context, path, "x")
    with pytest.raises(ToolError, match=r"'\.\.' is not allowed"):
        await listing(tool_context, path)


async def test_nul_bytes_are_refused(tool_context: ToolContext) -> None:
    with pytest.raises(ToolError, match="NUL"):
        await read(tool_context, "a\x00b")


async def test_a_symlink_out_of_the_sandbox_is_not_followed(
    tool_context: ToolContext, outside: Path
) -> None:
    root = user_root(tool_context)
    (root / "escape").symlink_to(outside)
    (root / "secret-link.txt").symlink_to(outside / "secret.txt")
    for path in ("escape/secret.txt", "secret-link.txt"):
        with pytest.raises(ToolError, match="leads outside the sandbox"):
            await read(tool_context, path)
        with pytest.raises(ToolError, match="leads outside the sandbox"):
            await write(tool_context, path, "overwritten")
    with pytest.raises(ToolError, match="leads outside the sandbox"):
        await write(tool_context, "escape/new.txt", "planted")
    with pytest.raises(ToolError, match="leads outside the sandbox"):
        await listing(tool_context, "escape")
    assert untouched(outside)
    # Listing shows the links as links and never walks into them.
    entries = (await listing(tool_context, recursive=True))["entries"]
    assert entries == [
        {"path": "escape", "type": "link"},
        {"path": "secret-link.txt", "type": "link"},
    ]


async def test_a_symlink_that_stays_inside_works(tool_context: ToolContext) -> None:
    await write(tool_context, "real/data.txt", "inside")
    root = user_root(tool_context)
    (root / "alias").symlink_to(root / "real")
    assert await read(tool_context, "alias/data.txt") == "inside"


async def test_a_link_to_another_users_sandbox_is_refused(tool_context: ToolContext) -> None:
    other = dataclasses.replace(tool_context, user_id=uuid.uuid4())
    await write(other, "theirs.txt", "not yours")
    (user_root(tool_context) / "peek").symlink_to(user_root(other))
    with pytest.raises(ToolError, match="leads outside the sandbox"):
        await read(tool_context, "peek/theirs.txt")


async def test_reads_are_capped(tool_context: ToolContext) -> None:
    (user_root(tool_context) / "big.txt").write_text("x" * 50)
    text = await ReadFileTool(max_file_bytes=10).run(ReadFileArgs(path="big.txt"), tool_context)
    assert text == "x" * 10 + "\n[truncated: showing the first 10 of 50 bytes]"


async def test_writes_are_capped_per_file_and_per_user(tool_context: ToolContext) -> None:
    small = WriteFileTool(max_file_bytes=10, quota_bytes=25)
    await small.run(WriteFileArgs(path="a.txt", content="1234567890"), tool_context)
    with pytest.raises(ToolError, match="limited to 10 bytes"):
        await small.run(WriteFileArgs(path="b.txt", content="12345678901"), tool_context)
    with pytest.raises(ToolError, match="limited to 10 bytes"):
        await small.run(WriteFileArgs(path="a.txt", content="x", append=True), tool_context)
    await small.run(WriteFileArgs(path="b.txt", content="1234567890"), tool_context)
    with pytest.raises(ToolError, match="sandbox is limited to 25 bytes"):
        await small.run(WriteFileArgs(path="c.txt", content="1234567890"), tool_context)
    # Replacing a file counts its new size, not both.
    await small.run(WriteFileArgs(path="b.txt", content="0987654321"), tool_context)


async def test_folders_and_missing_files_are_explained(tool_context: ToolContext) -> None:
    await write(tool_context, "folder/file.txt", "x")
    with pytest.raises(ToolError, match="is a directory"):
        await read(tool_context, "folder")
    with pytest.raises(ToolError, match="No such file"):
        await read(tool_context, "missing.txt")
    with pytest.raises(ToolError, match="not the sandbox itself"):
        await write(tool_context, ".", "x")
    with pytest.raises(ToolError, match="not a regular file"):
        await write(tool_context, "folder", "x")
    with pytest.raises(ToolError, match="is not a folder"):
        await listing(tool_context, "folder/file.txt")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
async def test_special_files_are_not_opened(tool_context: ToolContext) -> None:
    os.mkfifo(user_root(tool_context) / "pipe")
    with pytest.raises(ToolError, match="not a regular file"):
        await read(tool_context, "pipe")
    with pytest.raises(ToolError, match="not a regular file"):
        await write(tool_context, "pipe", "x")

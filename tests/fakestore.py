"""An object store on a local folder, for the code paths of ``gs://``/``s3://``.

``fakestore:///abs/dir/...`` is registered with Beam's filesystems on import.
Like GCS and S3 it has no folders (``mkdirs`` does nothing, a folder cannot be
deleted, only its objects), and a rename is a copy followed by a delete.
The pipeline must run in the importing process (the default DirectRunner).
"""

from __future__ import annotations

import os
import shutil

from apache_beam.io.filesystem import BeamIOError, FileMetadata
from apache_beam.io.localfilesystem import LocalFileSystem

PREFIX = "fakestore://"


def local(path: str) -> str:
    return path[len(PREFIX):] if path.startswith(PREFIX) else path


class FakeStore(LocalFileSystem):
    @classmethod
    def scheme(cls):
        return "fakestore"

    def join(self, basepath, *paths):
        return "/".join([basepath.rstrip("/"), *(p.strip("/") for p in paths)])

    def split(self, path):
        head, _, tail = path.rstrip("/").rpartition("/")
        return head, tail

    def has_dirs(self):
        return False

    def mkdirs(self, path):
        pass  # no folders in an object store

    def _list(self, dir_or_prefix):
        root = local(dir_or_prefix)
        if not os.path.isdir(root):
            return
        for dirpath, _, files in os.walk(root):
            for name in files:
                path = os.path.join(dirpath, name)
                yield FileMetadata(PREFIX + path, os.path.getsize(path), os.path.getmtime(path))

    def create(self, path, *args, **kwargs):
        return super().create(local(path), *args, **kwargs)

    def open(self, path, *args, **kwargs):
        return super().open(local(path), *args, **kwargs)

    def exists(self, path):
        return os.path.isfile(local(path))  # an object, not a prefix

    def size(self, path):
        return super().size(local(path))

    def last_updated(self, path):
        return super().last_updated(local(path))

    def checksum(self, path):
        return super().checksum(local(path))

    def metadata(self, path):
        meta = super().metadata(local(path))
        return FileMetadata(path, meta.size_in_bytes, meta.last_updated_in_seconds)

    def rename(self, sources, destinations):
        failed = {}
        for source, destination in zip(sources, destinations):
            try:
                os.makedirs(os.path.dirname(local(destination)), exist_ok=True)
                shutil.copyfile(local(source), local(destination))  # copy, then delete
                os.remove(local(source))
            except OSError as exc:
                failed[(source, destination)] = exc
        if failed:
            raise BeamIOError("Rename operation failed", failed)

    def delete(self, paths):
        failed = {}
        for path in paths:
            if not os.path.isfile(local(path)):
                failed[path] = IOError(f"no such object: {path}")
                continue
            os.remove(local(path))
        if failed:
            raise BeamIOError("Delete operation failed", failed)

"""The host's installer and uploader endpoints, each a small copy of Warehouse's where TPP touches it:
the legacy upload (``forklift/legacy.py``), the simple API (``api/simple.py``, PEP 503 and PEP 691),
the JSON API (``legacy/api/json.py``) and file serving from storage (the CDN's role on PyPI).

Every read is a plain ORM query with no knowledge of TPP: hiding is TPP's criteria alone.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import tempfile
import zipfile
from typing import Any

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import InvalidVersion, Version
from pyramid.httpexceptions import HTTPBadRequest, HTTPException, HTTPForbidden, HTTPMovedPermanently, HTTPNotFound
from pyramid.response import FileIter, Response
from sqlalchemy import select

from .models import File, JournalEntry, Project, Release, Role
from .storage import IFileStorage

_JSON = "application/vnd.pypi.simple.v1+json"
_HTML = "application/vnd.pypi.simple.v1+html"
_EXTENSIONS = {"sdist": (".tar.gz", ".zip"), "bdist_wheel": (".whl",)}


def _error(exc: type[HTTPException], message: str) -> HTTPException:
    # Warehouse's _exc_with_message: twine shows the reason phrase.
    response = exc(detail=message)
    response.status = f"{response.status_code} {message}"
    return response


def _filename_matches(filename: str, name: str, version: str) -> bool:
    try:
        if filename.endswith(".whl"):
            parsed_name, parsed_version = parse_wheel_filename(filename)[:2]
        else:
            parsed_name, parsed_version = parse_sdist_filename(filename)
    except ValueError:
        return False
    return parsed_name == canonicalize_name(name) and parsed_version == Version(version)


def file_upload(request: Any) -> Response:
    """``POST /legacy/`` with ``:action=file_upload``, as twine sends it."""
    if request.user is None:
        raise _error(HTTPForbidden, "Invalid or non-existent authentication information.")
    post = request.POST
    if post.get("protocol_version", "1") != "1":
        raise _error(HTTPBadRequest, "Unknown protocol version.")
    name, version, filetype = (str(post.get(k, "")).strip() for k in ("name", "version", "filetype"))
    content = post.get("content")
    if not name or not version or not hasattr(content, "file"):
        raise _error(HTTPBadRequest, "Invalid value for name, version or content.")
    try:
        canonical_version = str(Version(version))
    except InvalidVersion:
        raise _error(HTTPBadRequest, f"Invalid version: {version!r}.") from None
    filename = content.filename
    if filetype not in _EXTENSIONS or not filename.endswith(_EXTENSIONS[filetype]):
        raise _error(HTTPBadRequest, f"Invalid file type {filetype!r} for {filename!r}.")
    if "/" in filename or "\\" in filename or not _filename_matches(filename, name, version):
        raise _error(HTTPBadRequest, f"Start filename for {name!r} with the project name and version.")

    db = request.db
    project = db.scalars(select(Project).where(Project.normalized_name == canonicalize_name(name))).first()
    if project is None:
        project = Project(name=name, normalized_name=canonicalize_name(name))
        db.add_all([project, Role(user=request.user, project=project, role_name="Owner")])
        db.add(JournalEntry(name=name, version=None, action="create"))
    elif db.scalars(select(Role).where(Role.project == project, Role.user == request.user)).first() is None:
        raise _error(HTTPForbidden, f"The user '{request.user.username}' isn't allowed to upload to project {name!r}.")

    with tempfile.NamedTemporaryFile(suffix=filename) as stored:
        digests = {"md5": hashlib.md5(usedforsecurity=False), "sha256": hashlib.sha256()}
        blake2 = hashlib.blake2b(digest_size=32)
        size = 0
        for chunk in iter(lambda: content.file.read(1 << 16), b""):
            stored.write(chunk)
            size += len(chunk)
            blake2.update(chunk)
            for digest in digests.values():
                digest.update(chunk)
        stored.flush()
        for algorithm, digest in digests.items():
            claimed = post.get(f"{algorithm}_digest")
            if claimed and claimed.lower() != digest.hexdigest():
                raise _error(
                    HTTPBadRequest, "The digest supplied does not match a digest calculated from the uploaded file."
                )
        sha256 = digests["sha256"].hexdigest()

        # Validated before anything is stored, as Warehouse does: a refused upload leaves no bytes.
        metadata = _wheel_metadata(stored.name) if filetype == "bdist_wheel" else None
        existing = db.scalars(select(File).where(File.filename == filename)).first()
        if existing is not None:
            if existing.sha256_digest == sha256:
                request.tm.doom()  # the same file again: Warehouse answers 200 and changes nothing
                return Response("", content_type="text/plain")
            raise _error(HTTPBadRequest, "File already exists. See /help/#file-name-reuse for more information.")

        release = db.scalars(
            select(Release).where(Release.project == project, Release.canonical_version == canonical_version)
        ).first()
        if release is None:
            release = Release(project=project, version=version, canonical_version=canonical_version)
            db.add(release)
            db.add(JournalEntry(name=project.name, version=version, action="new release"))

        blake2_hex = blake2.hexdigest()
        file = File(
            release=release,
            filename=filename,
            path=f"{blake2_hex[:2]}/{blake2_hex[2:4]}/{blake2_hex[4:]}/{filename}",
            packagetype=filetype,
            python_version=str(post.get("pyversion", "source")),
            size=size,
            md5_digest=digests["md5"].hexdigest(),
            sha256_digest=sha256,
            blake2_256_digest=blake2_hex,
            metadata_file_sha256_digest=None if metadata is None else hashlib.sha256(metadata).hexdigest(),
        )
        db.add(file)
        storage = request.find_service(IFileStorage, name="archive")
        meta = {"project": project.normalized_name, "version": version, "package-type": filetype}
        storage.store(file.path, stored.name, meta=meta)
        if metadata is not None:
            with tempfile.NamedTemporaryFile() as extracted:
                extracted.write(metadata)
                extracted.flush()
                storage.store(file.metadata_path, extracted.name, meta=meta)
    db.add(JournalEntry(name=project.name, version=version, action=f"add {file.python_version} file {filename}"))
    db.flush()
    return Response("", content_type="text/plain")


def _wheel_metadata(wheel: str) -> bytes:
    """PEP 658: the wheel's METADATA, stored next to it. Raises a 400 for a broken wheel."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            member = next(n for n in archive.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n))
            return archive.read(member)
    except (zipfile.BadZipFile, StopIteration):
        raise _error(HTTPBadRequest, "Invalid distribution file.") from None


def _project(request: Any) -> Project:
    name = request.matchdict["name"]
    project: Project | None = request.db.scalars(
        select(Project).where(Project.normalized_name == canonicalize_name(name))
    ).first()
    if project is None:
        raise HTTPNotFound()
    return project


def _json(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    response = Response(body=json.dumps(body).encode(), content_type=_JSON)
    response.headers.update(headers or {})
    return response


def _wants_json(request: Any) -> bool:
    offers = request.accept.acceptable_offers([_HTML, _JSON, "text/html"])
    return bool(offers) and offers[0][0] == _JSON


def simple_index(request: Any) -> Response:
    """``/simple/``: every project, PEP 503 HTML or PEP 691 JSON."""
    names = request.db.scalars(select(Project.name).order_by(Project.normalized_name)).all()
    if _wants_json(request):
        body = {"meta": {"api-version": "1.1"}, "projects": [{"name": name} for name in names]}
        return _json(body)
    links = "".join(f'<a href="{html.escape(canonicalize_name(n))}/">{html.escape(n)}</a>\n' for n in names)
    return Response(f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n", content_type="text/html")


def simple_detail(request: Any) -> Response:
    """``/simple/{name}/``: the project's files, as ``_simple_detail`` queries them."""
    project = _project(request)
    if request.matchdict["name"] != project.normalized_name:
        raise HTTPMovedPermanently(request.route_path("api.simple.detail", name=project.normalized_name))
    files = request.db.scalars(
        select(File).join(Release).where(Release.project_id == project.id).order_by(File.filename)
    ).all()
    headers = {"X-PyPI-Last-Serial": str(project.last_serial)}
    if _wants_json(request):
        body = {
            "meta": {"api-version": "1.1"},
            "name": project.normalized_name,
            "versions": sorted({f.release.version for f in files}),
            "files": [_file_json(request, f) for f in files],
        }
        return _json(body, headers)
    links = "".join(
        f'<a href="{html.escape(_url(request, f))}#sha256={f.sha256_digest}"'
        + (
            f' data-dist-info-metadata="sha256={f.metadata_file_sha256_digest}"'
            if f.metadata_file_sha256_digest
            else ""
        )
        + f">{html.escape(f.filename)}</a>\n"
        for f in files
    )
    response = Response(f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n", content_type="text/html")
    response.headers.update(headers)
    return response


def _url(request: Any, file: File) -> str:
    return str(request.route_url("packaging.file", path=file.path))


def _file_json(request: Any, file: File) -> dict[str, Any]:
    return {
        "filename": file.filename,
        "url": _url(request, file),
        "hashes": {"sha256": file.sha256_digest},
        "core-metadata": {"sha256": file.metadata_file_sha256_digest} if file.metadata_file_sha256_digest else False,
        "size": file.size,
        "upload-time": file.upload_time.isoformat(),
    }


def _json_data(request: Any, project: Project, only: str | None) -> dict[str, Any]:
    """``/pypi/{name}/json`` and ``/pypi/{name}/{version}/json``: releases outer-joined with files."""
    rows = request.db.execute(
        select(Release, File).outerjoin(File, File.release_id == Release.id).where(Release.project_id == project.id)
    ).all()
    releases: dict[str, list[dict[str, Any]]] = {}
    for release, file in rows:
        releases.setdefault(release.version, [])
        if file is not None:
            releases[release.version].append(_file_json(request, file))
    if not releases or (only is not None and only not in releases):
        raise HTTPNotFound()
    version = only or max(releases, key=Version)
    return {
        "info": {"name": project.name, "version": version},
        "releases": releases if only is None else {},
        "urls": releases[version],
        "last_serial": project.last_serial,
    }


def json_project(request: Any) -> dict[str, Any]:
    return _json_data(request, _project(request), None)


def json_release(request: Any) -> dict[str, Any]:
    return _json_data(request, _project(request), request.matchdict["version"])


def package_file(request: Any) -> Response:
    """``/packages/{path}``: whatever the storage holds, with no database check (like PyPI's CDN)."""
    path = "/".join(request.matchdict["path"])
    if ".." in path.split("/"):
        raise HTTPNotFound()
    try:
        stream = request.find_service(IFileStorage, name="archive").get(path)
    except FileNotFoundError:
        raise HTTPNotFound() from None
    return Response(app_iter=FileIter(stream), content_type="application/octet-stream")

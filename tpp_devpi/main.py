"""Every ``devpiserver_*`` hook of the plugin, each delegating to the module named after its job."""

from __future__ import annotations

from typing import Any

from devpi_server.config import hookimpl

from . import bases, denials, index, options, upload, web

__all__ = [
    "devpiserver_add_parser_options",
    "devpiserver_auth_denials",
    "devpiserver_get_features",
    "devpiserver_get_stage_customizer_classes",
    "devpiserver_on_upload",
    "devpiserver_pyramid_configure",
    "devpiserver_sro_skip",
]


@hookimpl
def devpiserver_add_parser_options(parser: Any) -> None:
    options.add_options(parser)


@hookimpl
def devpiserver_get_stage_customizer_classes() -> list[tuple[str, type]]:
    return index.customizer_classes()


@hookimpl
def devpiserver_get_features() -> set[str]:
    # Clients and monitoring check /+api for it: a node without the plugin would show every file.
    return {"tpp"}


@hookimpl
def devpiserver_pyramid_configure(config: Any, pyramid_config: Any) -> None:
    web.configure(config, pyramid_config)


@hookimpl
def devpiserver_auth_denials(request: Any, acl: Any, user: Any, stage: Any) -> Any:
    return denials.denials(request, stage)


@hookimpl
def devpiserver_on_upload(stage: Any, project: str, version: str, link: Any) -> None:
    upload.on_upload(stage, project, version, link)


@hookimpl(optionalhook=True)
def devpiserver_sro_skip(stage: Any, base_stage: Any) -> bool | None:
    return bases.skips_base(stage, base_stage)

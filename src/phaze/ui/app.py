"""The FastAPI app: the page, its static files and the JSON endpoints."""
from __future__ import annotations

import json
import os
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from phaze.errors import ConfigError, PhazeError
from phaze.registry import Registry
from phaze.ui import design_view, faces, training
from phaze.ui.evaluate_cache import ByteBoundedCache
from phaze.ui.folders import AllowedFolders, BadRequestError, OutsideFoldersError
from phaze.ui.security import GuardMiddleware, allowed_hosts

STATIC = resources.files("phaze.ui") / "static"


class EvaluateBody(BaseModel):
    values: dict[str, Any] = Field(default_factory=dict)
    batch_size: int | None = None


class LoadBody(BaseModel):
    preset: str | None = None
    path: str | None = None


class SaveBody(BaseModel):
    values: dict[str, Any]
    path: str
    description: str = ""


class StartBody(BaseModel):
    model_dir: str
    demo: bool = False
    faces_a: str | None = None
    faces_b: str | None = None
    preset: str | None = None
    config: str | None = None
    iterations: int | None = Field(default=None, ge=1)
    batch_size: int | None = Field(default=None, ge=1, le=256)
    save_interval: int | None = Field(default=None, ge=1)
    preview_interval: int | None = Field(default=None, ge=1)
    threads: int | None = Field(default=None, ge=1)
    workers: int | None = Field(default=None, ge=0)


class ModelBody(BaseModel):
    model_dir: str


def builtin_preset(name: str) -> str:
    """`name` when it is a built-in preset; files must come as `config`, inside the folders
    (the trainer's --preset also takes a path, which would escape --folder)."""
    from phaze.config.presets import list_presets

    names = Registry.of("built-in preset", [preset.name for preset in list_presets()])
    try:
        return names.check(name)
    except ConfigError as error:
        raise BadRequestError(f"{error} (a preset file goes in 'config', inside the allowed "
                              "folders)") from None


def create_app(folders: list[str | Path], token: str, bind_host: str = "127.0.0.1",
               port: int = 8000) -> FastAPI:
    allowed = AllowedFolders(folders)
    app = FastAPI(title="Phaze UI", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(GuardMiddleware, token=token, hosts=allowed_hosts(bind_host, port))

    @app.exception_handler(PhazeError)
    async def user_error(_request, error: PhazeError) -> JSONResponse:
        status = 403 if isinstance(error, OutsideFoldersError) else 400
        return JSONResponse({"error": str(error)}, status_code=status)

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return (STATIC / "index.html").read_text(encoding="utf-8")

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.state.mask_jobs = faces.add_routes(app, allowed, Path(str(STATIC)))

    @app.get("/api/schema")
    def schema() -> dict[str, Any]:
        return design_view.option_schema()

    @app.get("/api/presets")
    def presets() -> list[dict[str, Any]]:
        from phaze.config.presets import list_presets

        return [{"name": p.name, "description": p.description} for p in list_presets()]

    def evaluate_json(key: str) -> str:   # the inputs are plain JSON, so the key is exact
        values, batch_size = json.loads(key)
        return json.dumps(design_view.evaluate(values, batch_size))

    evaluate_cached = ByteBoundedCache(evaluate_json)

    @app.post("/api/evaluate")
    def evaluate(body: EvaluateBody) -> Response:
        key = json.dumps([body.values, body.batch_size], sort_keys=True)
        return Response(evaluate_cached(key), media_type="application/json")

    @app.post("/api/load")
    def load(body: LoadBody) -> dict[str, Any]:
        from phaze.config.presets import get_preset, read_config_file

        if body.path:
            values = read_config_file(allowed.resolve(body.path))
        elif body.preset:
            values = get_preset(body.preset).values
        else:
            raise HTTPException(400, "give a preset name or a file path")
        # The full option set, so the page shows every value the file implies.
        options, errors = design_view.coerce_values(values)
        return {"values": options.to_dict() if options else values, "errors": errors}

    @app.post("/api/save")
    def save(body: SaveBody) -> dict[str, Any]:
        from phaze.config.presets import options_to_toml

        path = allowed.resolve(body.path)
        if path.suffix != ".toml":
            raise HTTPException(400, f"preset file '{body.path}' must end in .toml")
        options, errors = design_view.coerce_values(body.values)
        if options is None:
            return JSONResponse({"error": next(iter(errors.values())), "errors": errors}, 400)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Temp file in the same folder, then a rename: never a half-written preset.
        handle, temp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(options_to_toml(options, body.description))
        os.replace(temp, path)
        return {"path": str(path)}

    @app.get("/api/folders")
    def folders_list() -> dict[str, Any]:
        return {"roots": [str(r) for r in allowed.roots],
                "models": [training.model_status(p) for p in allowed.model_dirs()]}

    @app.get("/api/model")
    def model(path: str) -> dict[str, Any]:
        return training.model_status(allowed.resolve(path))

    @app.get("/api/preview")
    def preview(path: str) -> FileResponse:
        image = allowed.resolve(path) / "preview.png"
        if not image.is_file():
            raise HTTPException(404, "no preview yet")
        return FileResponse(image, media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.post("/api/train/start")
    def start(body: StartBody) -> dict[str, Any]:
        def inside(path: str | None) -> Path | None:
            return allowed.resolve(path) if path else None

        request = training.TrainRequest(
            model_dir=allowed.resolve(body.model_dir), demo=body.demo,
            faces_a=inside(body.faces_a), faces_b=inside(body.faces_b),
            preset=builtin_preset(body.preset) if body.preset else None,
            config=inside(body.config),
            iterations=body.iterations, batch_size=body.batch_size,
            save_interval=body.save_interval, preview_interval=body.preview_interval,
            threads=body.threads, workers=body.workers)
        run = training.start_run(request)
        return {"pid": run["pid"], "command": run["command"]}

    @app.post("/api/train/stop")
    def stop(body: ModelBody) -> dict[str, Any]:
        return {"stopping": training.stop_run(allowed.resolve(body.model_dir))}

    return app

"""``POST /api/notes``: an uploaded file's notes, for the page to draw in its prompt roll before
anything is generated (issue #23: an uploaded file was not drawn). Read as a continuation reads
it, so a file the roll cannot show is one the models cannot continue either, said in words."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Request, UploadFile

from cadenza.web.uploads import read_prompt_file, save_upload

router = APIRouter()
MAX_NOTES = 20_000  # a roll 800 pixels wide shows no more


@router.post("/api/notes", summary="The notes of an uploaded .mid, .krn or .musicxml file (quarters), to draw")
async def notes(request: Request, file: UploadFile = File(..., description=".mid, .krn or .musicxml, at most the upload limit")) -> dict[str, Any]:
    web = request.app.state.web
    job, folder = web.results.new_job()
    try:
        path = await save_upload(file, folder, web.options.max_upload)
        return await web.pool.run(_read, path, file.filename or path.name)
    finally:
        web.results.finish(job)


def _read(path: Any, shown: str) -> dict[str, Any]:
    from cadenza.render.excerpt import bar_starts

    piece = read_prompt_file(path, shown)
    starts, first = bar_starts(piece)
    notes = piece.notes[:MAX_NOTES]
    return {"name": shown, "quarters": round(piece.end, 3), "bars": len(starts), "first_bar": first, "bar_starts": [round(q, 3) for q in starts],
            "notes": [{"start": round(n.start, 3), "duration": round(n.duration, 3), "pitch": n.pitch} for n in notes], "truncated": len(piece.notes) > MAX_NOTES}

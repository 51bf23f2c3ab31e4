"""The outcome report, downloaded from the page at any time.

Written by `write_campaign_report` (the same report `dialer report` writes; mid-run it shows
where each row stands) into a private temporary folder under the state folder, streamed, then
removed: a report holds every contact's data, so it is never left in a shared /tmp.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from campaigns.service import write_campaign_report
from campaigns.store.rows import RowStore

TMP_FOLDER = "tmp"
MEDIA_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def report_download(store: RowStore, cid: str, suffix: str, home: Path) -> FileResponse:
    """Blocking (it writes the whole report): call it from a worker thread."""
    root = home / TMP_FOLDER
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = Path(tempfile.mkdtemp(prefix="report-", dir=root))
    try:
        path = folder / f"{cid}.outcomes{suffix}"
        write_campaign_report(store, cid, path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[suffix],
        filename=path.name,  # the campaign id: letters, digits, '.', '_' and '-' only
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )

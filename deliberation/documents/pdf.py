"""A PDF beside each exported document, made by LibreOffice headless when it is installed.

LibreOffice lays the pages out, so the PDF has what only a layout knows: the table of
contents' page numbers (PAGEREF fields), the page numbers in the footers, the charts drawn.
Without LibreOffice there is no PDF and the .docx is unchanged: Word computes the same
fields when it opens the document. A conversion that fails never fails the export: the
.docx is already written.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

log = logging.getLogger(__name__)
# A 200-poll Actes converts in well under a minute even on a busy machine.
CONVERSION_TIMEOUT_SECONDS = 300


def libreoffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def write_pdf(docx_path: Path) -> Path | None:
    """Convert ``docx_path`` to a PDF of the same name beside it; its path, or None when
    LibreOffice is missing or the conversion failed (logged)."""
    soffice = libreoffice()
    if soffice is None:
        return None
    final = docx_path.with_suffix(".pdf")
    # A profile of its own: two workers converting at once would otherwise fight over the
    # user's LibreOffice profile lock, and one of them would silently do nothing.
    with tempfile.TemporaryDirectory(prefix="export-pdf-") as work:
        try:
            subprocess.run(
                [
                    soffice,
                    f"-env:UserInstallation=file://{work}/profile",
                    "--headless",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    work,
                    str(docx_path),
                ],
                check=True,
                capture_output=True,
                timeout=CONVERSION_TIMEOUT_SECONDS,
            )
        except (OSError, subprocess.SubprocessError) as error:
            log.warning("PDF conversion of %s failed: %s", docx_path.name, error)
            return None
        produced = Path(work) / f"{docx_path.stem}.pdf"
        if not produced.is_file():
            log.warning("PDF conversion of %s produced nothing", docx_path.name)
            return None
        # Moved next to its final name then renamed: a download never sees half a file.
        partial = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            shutil.move(produced, partial)
            os.chmod(partial, 0o600)
            os.replace(partial, final)
        except OSError as error:
            with contextlib.suppress(OSError):
                partial.unlink()
            log.warning("PDF of %s could not be written: %s", docx_path.name, error)
            return None
    return final

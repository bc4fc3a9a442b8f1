"""instructor's own virtualenv, .venv-instructor: instructor caps jiter below what the openai 3
of the test requirements needs, so it gets requirements/instructor.txt (an openai 2), installed
on first use and again when that file changes."""

from __future__ import annotations

import hashlib
import subprocess
import sys

from tests.support.service import ROOT

VENV = ROOT / ".venv-instructor"
REQUIREMENTS = ROOT / "requirements" / "instructor.txt"


def instructor_python() -> str:
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not stamp.is_file() or stamp.read_text() != wanted:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=120)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True, timeout=600)
        stamp.write_text(wanted)
    return str(python)

"""Shared by the goldens makers (tests/parity/<family>/make_goldens.py): file hashes and the
kvbench commit that made the goldens."""
import hashlib
import os
import subprocess


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def git_commit(goldens_dir):
    """HEAD, with -dirty when anything in the checkout but the goldens being rewritten differs."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        top = subprocess.check_output(["git", "-C", here, "rev-parse", "--show-toplevel"], text=True).strip()
        rev = subprocess.check_output(["git", "-C", here, "rev-parse", "HEAD"], text=True).strip()
        rel = os.path.relpath(os.path.abspath(goldens_dir), top)
        dirty = subprocess.check_output(["git", "-C", top, "status", "--porcelain", "--", ".", f":(exclude){rel}"],
                                        text=True).strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"

"""Shared bits of the device-check drivers (scripts/device_check.sh): running kvbench, bf16
ulps, peak memory of a child process, versions for the JSON records."""
import json
import os
import platform
import subprocess
import threading
import time


def bf16_ulp(x):
    """Spacing of bfloat16 numbers at magnitude x (8 significant bits)."""
    import math
    if x <= 0:
        return 2.0 ** -133
    return 2.0 ** (math.floor(math.log2(x)) - 7)


def versions():
    v = {"python": platform.python_version(), "machine": platform.machine()}
    try:
        import torch
        v["torch"] = torch.__version__
        v["cuda"] = torch.version.cuda
        if torch.cuda.is_available():
            v["device_name"] = torch.cuda.get_device_name(0)
    except Exception as e:  # noqa: BLE001  (recorded, not fatal)
        v["torch"] = f"unavailable: {e}"
    try:
        import transformers
        v["transformers"] = transformers.__version__
    except Exception as e:  # noqa: BLE001
        v["transformers"] = f"unavailable: {e}"
    return v


class GpuMemPoller:
    """Peak `nvidia-smi` memory.used (MiB, whole GPU) while alive; None where there is no nvidia-smi."""

    def __init__(self, period_s=0.05):
        self.period = period_s
        self.peak = None
        self._stop = threading.Event()
        self._t = None

    def __enter__(self):
        if subprocess.run(["which", "nvidia-smi"], capture_output=True).returncode == 0:
            self._t = threading.Thread(target=self._run, daemon=True)
            self._t.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            try:
                out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                                     capture_output=True, text=True, timeout=5).stdout.split()
                if out:
                    used = float(out[0])
                    self.peak = used if self.peak is None else max(self.peak, used)
            except Exception:  # noqa: BLE001
                pass
            self._stop.wait(self.period)

    def __exit__(self, *exc):
        self._stop.set()
        if self._t:
            self._t.join()
        return False


def _vm_hwm_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def run_kvbench(cmd, timeout_s, env=None):
    """Runs a command; returns dict(rc, stdout, stderr, seconds, peak_rss_mib, peak_gpu_mib).
    peak_rss_mib: the child's VmHWM, last read before it exited (sampled every 50 ms);
    peak_gpu_mib: nvidia-smi memory.used of the whole GPU, sampled likewise (None without a GPU)."""
    t0 = time.time()
    rss = [None]
    with GpuMemPoller() as mem:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, **(env or {})})
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                v = _vm_hwm_mib(p.pid)
                if v is not None:
                    rss[0] = v if rss[0] is None else max(rss[0], v)
                stop.wait(0.05)

        w = threading.Thread(target=watch, daemon=True)
        w.start()
        try:
            out, err = p.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            err += f"\n[timed out after {timeout_s} s]"
        stop.set()
        w.join()
    return {"rc": p.returncode, "stdout": out, "stderr": err, "seconds": time.time() - t0,
            "peak_rss_mib": rss[0], "peak_gpu_mib": mem.peak}


def load_json_output(text):
    """The JSON object kvbench printed (the last top-level {...} block of stdout)."""
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON in kvbench output")
    return json.loads(text[start:])


def write_json(path, obj):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)

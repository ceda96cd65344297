"""Build a minimal, installable pure-Python wheel with the stdlib only (kip's test harness).

usage: make_wheel.py SPEC_JSON        -> prints the wheel's path

SPEC_JSON: {"out": DIR, "dist": NAME, "version": V,
            "files": [[PATH_OR_MODULE, SOURCE], ...],
            "requires_dist": [...], "top_level_txt": true, "console_scripts": [[NAME, "mod:func"], ...]}

A file entry named like a module ("demo") becomes the package "demo/__init__.py"; an entry that
ends in ".py" or ".pth" or contains "/" is taken as a path inside the wheel ("demo.py",
"pkg/sub.py", "demo.pth"; a .pth is not a top-level module). A SOURCE of the form "@file:PATH" is
that file's bytes (a shared library a package loads, say).
The wheel is reproducible (fixed timestamps, sorted members) and its RECORD carries sha256
hashes, so pip and uv both accept it, and `pip uninstall` can remove it.
"""
import base64
import hashlib
import json
import os
import re
import sys
import zipfile


def as_bytes(src):
    return src if isinstance(src, bytes) else src.encode("utf-8")


def main():
    spec = json.loads(sys.argv[1])
    dist, version = spec["dist"], spec["version"]
    norm = re.sub(r"[-_.]+", "_", dist).lower()
    info = "%s-%s.dist-info" % (norm, version)

    files = {}
    top = []
    for name, src in spec.get("files", []):
        if src.startswith("@file:"):
            with open(src[len("@file:"):], "rb") as f:
                src = f.read()
        path = name if (name.endswith((".py", ".pth")) or "/" in name) else name + "/__init__.py"
        files[path] = src
        if path.endswith(".pth") and "/" not in path:
            continue
        first = path.split("/", 1)[0]
        first = first[:-3] if first.endswith(".py") and "/" not in path else first
        if first not in top:
            top.append(first)

    meta = ["Metadata-Version: 2.1", "Name: %s" % dist, "Version: %s" % version]
    meta += ["Requires-Dist: %s" % r for r in spec.get("requires_dist", [])]
    files[info + "/METADATA"] = "\n".join(meta) + "\n"
    files[info + "/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: kip-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    if spec.get("top_level_txt", True):
        files[info + "/top_level.txt"] = "".join(t + "\n" for t in sorted(top))
    scripts = spec.get("console_scripts", [])
    if scripts:
        files[info + "/entry_points.txt"] = "[console_scripts]\n" + "".join(
            "%s = %s\n" % (n, target) for n, target in scripts
        )

    record = []
    for name in sorted(files):
        data = as_bytes(files[name])
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (name, digest, len(data)))
    record.append(info + "/RECORD,,")
    files[info + "/RECORD"] = "\n".join(record) + "\n"

    os.makedirs(spec["out"], exist_ok=True)
    path = os.path.join(spec["out"], "%s-%s-py3-none-any.whl" % (norm, version))
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        # dist-info last, as the wheel spec recommends
        for name in sorted(files, key=lambda n: (n.startswith(info + "/"), n)):
            zi = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, as_bytes(files[name]))
    os.replace(tmp, path)
    print(path)


main()

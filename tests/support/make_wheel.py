"""Build a minimal pure-Python wheel with the stdlib (kip's test harness).

usage: make_wheel.py OUTDIR DIST VERSION [MODULE SOURCE]...   -> prints the wheel path
"""
import base64, hashlib, os, sys, zipfile

out, dist, version = sys.argv[1], sys.argv[2], sys.argv[3]
mods = list(zip(sys.argv[4::2], sys.argv[5::2]))
norm = dist.replace("-", "_")
info = "%s-%s.dist-info" % (norm, version)
files = {}
for m, src in mods:
    files["%s/__init__.py" % m if "/" not in m else m] = src
files[info + "/METADATA"] = "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (dist, version)
files[info + "/WHEEL"] = "Wheel-Version: 1.0\nGenerator: kip-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
files[info + "/top_level.txt"] = "".join(m + "\n" for m, _ in mods)
record = []
for name, text in files.items():
    data = text.encode()
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append("%s,sha256=%s,%d" % (name, digest, len(data)))
record.append(info + "/RECORD,,")
files[info + "/RECORD"] = "\n".join(record) + "\n"
path = os.path.join(out, "%s-%s-py3-none-any.whl" % (norm, version))
with zipfile.ZipFile(path, "w") as z:
    for name, text in files.items():
        z.writestr(name, text)
print(path)

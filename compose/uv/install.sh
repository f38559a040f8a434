#!/bin/sh
# The deps stage of each Python image (compose/*/Dockerfile): uv, from its wheel in the
# wheelhouse (compose/uv/requirements.txt), makes /opt/venv and installs the image's packages
# from the image's own wheels, unpacked and compiled in parallel (pip does one after another).
#   install.sh <wheels dir> <requirements file>      (the uv wheel is expected in /uv)
set -eu
python3 - <<'PY'
import glob, sys, zipfile
wheels = glob.glob("/uv/uv-*.whl")
if not wheels:
    sys.exit("no uv wheel in .wheelhouse/uv: run scripts/wheelhouse.sh (make images) first")
z = zipfile.ZipFile(wheels[0])
binary = next(n for n in z.namelist() if n.endswith("/scripts/uv"))
with open("/usr/local/bin/uv", "wb") as out:
    out.write(z.read(binary))
PY
chmod +x /usr/local/bin/uv
uv venv --quiet --python /usr/bin/python3 /opt/venv
uv pip install --quiet --no-cache --python /opt/venv/bin/python --no-index --find-links "$1" \
  --compile-bytecode -r "$2"

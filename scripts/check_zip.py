"""Checks a Lambda deployment zip: it holds an executable `bootstrap`; prints its sizes."""
import os
import sys
import zipfile

path = sys.argv[1]
with zipfile.ZipFile(path) as z:
    entries = {i.filename: i for i in z.infolist()}
boot = entries.get("bootstrap")
if boot is None:
    sys.exit(f"{path}: no bootstrap in the zip (holds {sorted(entries)})")
if not (boot.external_attr >> 16) & 0o111:
    sys.exit(f"{path}: bootstrap is not executable")
print(f"{path}: {os.path.getsize(path) / 1e6:.2f} MB zipped, bootstrap {boot.file_size / 1e6:.2f} MB")

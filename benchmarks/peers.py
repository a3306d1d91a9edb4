"""The peers and floors dicomify is timed against (each run as its own process).

python benchmarks/peers.py copy    SRC_DIR OUT_DIR            # floor: copy the bytes
python benchmarks/peers.py decode  SRC_DIR OUT_DIR [--jobs N] # floor: Pillow decode + raw write
python benchmarks/peers.py pydicom SRC_DIR OUT_DIR            # a plain Pillow + pydicom loop
python benchmarks/peers.py img2dcm SRC_DIR OUT_DIR            # DCMTK img2dcm once per file
"""

from __future__ import annotations

import os
import subprocess
import sys


def files(folder: str) -> list[str]:
    return sorted(os.path.join(folder, name) for name in os.listdir(folder))


def copy(src: str, out: str) -> None:
    for path in files(src):
        with open(path, "rb") as reader, open(os.path.join(out, os.path.basename(path) + ".bin"), "wb") as writer:
            writer.write(reader.read())


def _decode_one(job: tuple[str, str]) -> None:
    from PIL import Image, ImageSequence

    path, out = job
    with Image.open(path) as image, open(os.path.join(out, os.path.basename(path) + ".raw"), "wb") as writer:
        for frame in ImageSequence.Iterator(image):
            writer.write(frame.tobytes())


def decode(src: str, out: str, jobs: int) -> None:
    work = [(path, out) for path in files(src)]
    if jobs == 1:
        for job in work:
            _decode_one(job)
        return
    from multiprocessing import Pool

    with Pool(jobs) as pool:
        pool.map(_decode_one, work, chunksize=max(1, len(work) // (jobs * 8)))


def pydicom_loop(src: str, out: str) -> None:
    """What a user writes in an afternoon: decode with Pillow, store natively."""
    import numpy as np
    import pydicom
    from PIL import Image, ImageSequence
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    study, series = generate_uid(), generate_uid()
    for number, path in enumerate(files(src), start=1):
        with Image.open(path) as image:
            frames = [
                np.asarray(f.convert("RGB") if f.mode not in ("L", "I;16", "RGB") else f)
                for f in ImageSequence.Iterator(image)
            ]
        array = frames[0] if len(frames) == 1 else np.stack(frames)
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPClassUID = SecondaryCaptureImageStorage
        ds.SOPInstanceUID = generate_uid()
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.PatientName, ds.PatientID, ds.Modality, ds.InstanceNumber = "Bench^Mark", "1", "OT", number
        ds.set_pixel_data(
            array,
            "RGB" if array.shape[-1] == 3 and array.ndim >= 3 else "MONOCHROME2",
            16 if array.dtype == np.uint16 else 8,
        )
        pydicom.dcmwrite(os.path.join(out, os.path.basename(path) + ".dcm"), ds, enforce_file_format=True)


def img2dcm(src: str, out: str) -> None:
    for path in files(src):
        subprocess.run(["img2dcm", "-q", path, os.path.join(out, os.path.basename(path) + ".dcm")], check=True)


def main() -> None:
    method, src, out = sys.argv[1:4]
    jobs = int(sys.argv[sys.argv.index("--jobs") + 1]) if "--jobs" in sys.argv else 1
    os.makedirs(out, exist_ok=True)
    {
        "copy": lambda: copy(src, out),
        "decode": lambda: decode(src, out, jobs),
        "pydicom": lambda: pydicom_loop(src, out),
        "img2dcm": lambda: img2dcm(src, out),
    }[method]()


if __name__ == "__main__":
    main()

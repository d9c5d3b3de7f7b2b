"""google.colab.patches: ``cv2_imshow``, since ``cv2.imshow`` opens no window in a notebook."""

from __future__ import annotations

import struct
import zlib
from typing import Any


def _png(rgb: Any) -> bytes:
    """A PNG of an (height, width, channels) uint8 array (1, 3 or 4 channels)."""
    height, width, channels = rgb.shape
    color = {1: 0, 3: 2, 4: 6}[channels]
    rows = b"".join(b"\x00" + rgb[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def cv2_imshow(a: Any) -> None:
    """Show an OpenCV image (BGR or BGRA channel order, or grayscale) in the output."""
    import numpy as np  # noqa: PLC0415 (an OpenCV image is a numpy array)
    from IPython.display import Image, display  # noqa: PLC0415

    a = np.asarray(a).clip(0, 255).astype("uint8")
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise ValueError(f"cv2_imshow: expected an image (H, W[, 1|3|4]), got shape {a.shape}")
    if a.shape[2] == 3:
        a = a[:, :, ::-1]  # BGR -> RGB
    elif a.shape[2] == 4:
        a = a[:, :, [2, 1, 0, 3]]  # BGRA -> RGBA
    display(Image(data=_png(np.ascontiguousarray(a)), format="png"))

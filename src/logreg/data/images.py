"""Images as the notes see them: each image one column of X.

An image of shape (h, w, c) becomes a column of h·w·c numbers (the quiz's
``img.reshape((32*32*3, 1))``); a stack of m images (m, h, w, c) becomes X of shape (h·w·c, m)
with ``reshape(m, -1).T``, which keeps each image in one column. (``reshape(h·w·c, m)`` would
mix pixels of different images into one column: the layout bug the exercise warns of.)
"""

import math
import os
import re
import struct
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from logreg.core.checks import as_numeric_array, check_input_file, check_memory, format_bytes
from logreg.errors import DataFileError, InvalidInputError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm",
                  ".pgm"}
# The most pixels an image file may declare, or an image size may ask for: Pillow's own
# decompression-bomb threshold (about 9459 × 9459), held here so that a program changing
# Image.MAX_IMAGE_PIXELS does not change what logreg accepts, and made an error, not a warning.
MAX_PIXELS = 89_478_485


def image_to_vector(image):
    """(h, w, c) → (h·w·c, 1): one image as one column (the quiz's answer 3).

    >>> image_to_vector(np.zeros((32, 32, 3))).shape
    (3072, 1)
    """
    image = as_numeric_array(image, "image")
    if image.ndim not in (2, 3):
        raise InvalidInputError(
            f"image has shape {image.shape}; expected (h, w, c) or (h, w). For a stack of "
            f"images (m, h, w, c) use flatten_images.")
    return image.reshape(-1, 1)


def flatten_images(images):
    """(m, h, w, c) → (h·w·c, m): column i is image i, flattened (the exercise's recipe).

    >>> flatten_images(np.zeros((209, 64, 64, 3))).shape
    (12288, 209)
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise InvalidInputError(
            f"images have shape {images.shape}; expected a stack (m, h, w, c) or (m, h, w). "
            f"For one image use image_to_vector.")
    m = images.shape[0]
    # reshape(m, -1).T, never reshape(-1, m): each image stays in one column
    return images.reshape(m, math.prod(images.shape[1:])).T


def vectors_to_images(X, image_shape):
    """The inverse of ``flatten_images``: X (h·w·c, m) → (m, h, w, c), for showing images."""
    return np.asarray(X).T.reshape((-1, *image_shape))


def check_image_size(size, channels=3, name="image size"):
    """``size`` = (h, w) as two whole numbers ≥ 1 whose h·w is at most ``MAX_PIXELS``."""
    try:
        height, width = size
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} {size!r}; expected two whole numbers (height, "
                                f"width), such as (64, 64).") from None
    if not all(isinstance(side, (int, np.integer)) and not isinstance(side, bool)
               and side >= 1 for side in (height, width)):
        raise InvalidInputError(f"{name} {height} × {width}; expected a height and a width "
                                f"of at least 1 pixel each, such as 64 × 64.")
    if height * width > MAX_PIXELS:
        raise InvalidInputError(
            f"{name} {height} × {width} is {height * width:,} pixels, "
            f"{format_bytes(height * width * channels * 8)} per image as float64; expected "
            f"at most {MAX_PIXELS:,} pixels. Choose a smaller size, such as 64 × 64.")
    return int(height), int(width)


def _open_image(path):
    """The decoded image, or DataFileError for a file that declares more than MAX_PIXELS
    pixels, refused before its pixels are decoded (Pillow's decompression-bomb warning and
    error become this one error). Pillow's other warnings (such as "Corrupt EXIF data") are
    about metadata logreg does not use: where the pixels decode, they are not printed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as opened:
                width, height = opened.size
                if width * height > MAX_PIXELS:
                    raise Image.DecompressionBombError(f"{width} × {height} = "
                                                       f"{width * height:,} pixels")
                opened.load()
                return ImageOps.exif_transpose(opened)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
            # Pillow's own message: "Image size (900000000 pixels) exceeds limit of ..."
            declared = re.search(r"\((\d+) pixels\)", str(bomb))
            size = f"{int(declared[1]):,} pixels" if declared else str(bomb)
            raise DataFileError(
                f"{path} declares an image of {size}; expected at most {MAX_PIXELS:,} pixels "
                f"(about 9459 × 9459). Shrink it first: a small file that declares so many "
                f"pixels is a decompression bomb.") from None


def read_image(path, size, channels):
    """One image file as uint8 of shape (h, w, channels), resized to ``size`` = (h, w).

    Grayscale, RGBA (composited on white), palette and other modes are converted to ``channels``
    (1: grayscale, 3: RGB). A file that is not an image, is corrupt or truncated, or declares
    more than ``MAX_PIXELS`` pixels raises DataFileError.
    """
    if channels not in (1, 3):
        raise InvalidInputError(f"channels={channels!r}; expected 1 (grayscale) or 3 (RGB).")
    size = check_image_size(size, channels)
    path = check_input_file(path, "an image file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # metadata warnings: see _open_image
            return _pixels(_open_image(path), size, channels)
    except DataFileError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, TypeError,
            IndexError, MemoryError, struct.error) as error:  # what Pillow's decoders raise
        reason = " ".join(str(error).split()) or type(error).__name__
        raise DataFileError(
            f"{path} is not a readable image ({reason}); expected an image file Pillow can "
            f"read (PNG, JPEG, BMP, GIF, TIFF, WebP). Remove it or replace it.") from None


def _pixels(image, size, channels):
    """A decoded image as uint8 (h, w, channels): 16-bit scaled, transparency on white,
    converted, resized."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit gray: 0..65535 → 0..255
        image = Image.fromarray((np.asarray(image, dtype=np.float64) / 257).round()
                                .clip(0, 255).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image.alpha_composite(rgba)  # transparent pixels show the white they were drawn on
    image = image.convert("L" if channels == 1 else "RGB")
    height, width = size
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8).reshape(height, width, channels)


def list_images(folder):
    """The image files of a folder (and its sub-folders), sorted; hidden files left out.

    Symbolic links to folders are not followed (so a link loop cannot make it run forever);
    a folder that cannot be read raises DataFileError naming it.
    """
    folder = Path(folder)

    def unreadable(error):
        raise DataFileError(
            f"cannot read the folder {error.filename or folder} ({error.strerror or error}); "
            f"expected a readable folder of images. Check its permissions.") from None

    found = []
    for root, folders, files in os.walk(folder, onerror=unreadable):
        folders[:] = [name for name in folders if not name.startswith(".")]
        found += [Path(root, name) for name in files if not name.startswith(".")
                  and Path(name).suffix.lower() in IMAGE_SUFFIXES
                  and Path(root, name).is_file()]
    return sorted(found)


def read_images(paths, size, channels):
    """Several image files as one uint8 stack (m, h, w, channels).

    Refused before any file is read when the stack, as float64 for training, would not fit
    in the memory available.
    """
    paths = list(paths)
    height, width = check_image_size(size, channels)
    check_memory(len(paths) * height * width * channels * 8,
                 f"{len(paths)} images of {height} × {width} × {channels} as float64",
                 "choose a smaller image size or fewer images")
    if not paths:
        return np.empty((0, height, width, channels), np.uint8)
    return np.stack([read_image(path, size, channels) for path in paths])

"""Images as the notes see them: each image one column of X.

An image of shape (h, w, c) becomes a column of h·w·c numbers (the quiz's
``img.reshape((32*32*3, 1))``); a stack of m images (m, h, w, c) becomes X of shape (h·w·c, m)
with ``reshape(m, -1).T``, which keeps each image in one column. (``reshape(h·w·c, m)`` would
mix pixels of different images into one column: the layout bug the exercise warns of.)
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from logreg.checks import as_numeric_array
from logreg.errors import DataFileError, InvalidInputError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm",
                  ".pgm"}


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
    return images.reshape(m, -1).T


def vectors_to_images(X, image_shape):
    """The inverse of ``flatten_images``: X (h·w·c, m) → (m, h, w, c), for showing images."""
    return np.asarray(X).T.reshape((-1, *image_shape))


def read_image(path, size, channels):
    """One image file as uint8 of shape (h, w, channels), resized to ``size`` = (h, w).

    Grayscale, RGBA (composited on white), palette and other modes are converted to ``channels``
    (1: grayscale, 3: RGB). A file that is not an image, or is corrupt, raises DataFileError.
    """
    if channels not in (1, 3):
        raise InvalidInputError(f"channels={channels!r}; expected 1 (grayscale) or 3 (RGB).")
    path = Path(path)
    try:
        with Image.open(path) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened)
    except FileNotFoundError:
        raise DataFileError(f"image {path} does not exist; expected an image file.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise DataFileError(
            f"{path} is not a readable image ({error}); expected an image file Pillow can "
            f"read (PNG, JPEG, BMP, GIF, TIFF, WebP). Remove it or replace it.") from None
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
    """The image files of a folder (and its sub-folders), sorted; hidden files left out."""
    folder = Path(folder)
    return sorted(path for path in folder.rglob("*")
                  if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
                  and not any(part.startswith(".") for part in path.relative_to(folder).parts))


def read_images(paths, size, channels):
    """Several image files as one uint8 stack (m, h, w, channels)."""
    return np.stack([read_image(path, size, channels) for path in paths])

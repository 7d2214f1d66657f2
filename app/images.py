"""Merchant branding images: checked by their bytes with Pillow, then re-encoded as small PNGs."""

from __future__ import annotations

import warnings
from io import BytesIO

from PIL import Image, ImageOps, UnidentifiedImageError

from app.errors import DomainError

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
# Far above any sensible icon or logo, far below what would exhaust memory when decoded (a "decompression bomb").
MAX_PIXELS = 25_000_000
# Each side too: a 39 KB PNG of 1 × 20,000,000 pixels stays under MAX_PIXELS and took 10 s and 1.3 GB to resize.
MAX_SIDE = 8_000
# A decoded image is brought down to at most this many pixels a side before the high-quality resize (the largest
# result is 480 px wide): JPEG decodes at 1/2, 1/4 or 1/8 scale right away (Pillow's `draft`), other formats are
# reduced by a whole factor with a box filter (`reduce`), both much cheaper than a Lanczos filter over every pixel.
WORKING_SIDE = 2_048
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP")
ICON_SIZE = 128
LOGO_MAX_HEIGHT = 80
LOGO_MAX_WIDTH = 480
# A wide or tall icon is padded to a square (nothing of the mark is cut off); a nearly square one is cropped.
ICON_CROP_MAX_ASPECT = 1.15
TOO_MANY_PIXELS = "The image has too many pixels. Upload an image of at most 5000 × 5000 pixels."
TOO_LONG_A_SIDE = f"The image is too wide or too tall. Upload an image of at most {MAX_SIDE:,} pixels on each side."


class ImageRejected(DomainError):
    """The upload is not an image we accept; the message says why in the merchant's words."""


def process_icon(data: bytes) -> bytes:
    """The icon as a 128×128 PNG: empty margins trimmed, then cropped if nearly square, else padded."""
    image = _trim_transparent_margins(_open_still_image(data))
    aspect = max(image.width, image.height) / min(image.width, image.height)
    if aspect <= ICON_CROP_MAX_ASPECT:
        square = ImageOps.fit(image, (ICON_SIZE, ICON_SIZE), Image.Resampling.LANCZOS)
    else:
        square = ImageOps.pad(image, (ICON_SIZE, ICON_SIZE), Image.Resampling.LANCZOS, color=(0, 0, 0, 0))
    return _png(square)


def process_logo(data: bytes) -> bytes:
    """The logo as a PNG at most 80 px high (and 480 px wide), empty margins trimmed, never enlarged."""
    image = _trim_transparent_margins(_open_still_image(data))
    scale = min(1.0, LOGO_MAX_HEIGHT / image.height, LOGO_MAX_WIDTH / image.width)
    if scale < 1.0:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return _png(image)


def _open_still_image(data: bytes) -> Image.Image:
    """Decode a PNG, JPEG or WebP still image into RGBA, or raise ImageRejected with the reason."""
    if not data:
        raise ImageRejected("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRejected("The file is larger than 2 MB.")
    if _looks_like_svg(data):
        raise ImageRejected("SVG images are not supported. Upload a PNG, JPEG or WebP image.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(BytesIO(data), formats=ACCEPTED_FORMATS)
            if max(image.size) > MAX_SIDE:
                raise ImageRejected(TOO_LONG_A_SIDE)
            if image.width * image.height > MAX_PIXELS:
                raise ImageRejected(TOO_MANY_PIXELS)
            if getattr(image, "n_frames", 1) > 1:
                raise ImageRejected("Animated images are not supported. Upload a still image.")
            factor = _reduction(image.size)
            image.draft(None, (image.width // factor, image.height // factor))  # JPEG only; the others ignore it
            image.load()
        except UnidentifiedImageError:
            raise ImageRejected("This file is not a PNG, JPEG or WebP image.") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRejected(TOO_MANY_PIXELS) from None
        except (OSError, SyntaxError, ValueError):
            raise ImageRejected("The image file is damaged or incomplete.") from None
    image = image.convert("RGBA")
    if (factor := _reduction(image.size)) > 1:  # what JPEG's draft did not do yet, or any other format
        image = image.reduce(factor)
    return ImageOps.exif_transpose(image)


def _reduction(size: tuple[int, int]) -> int:
    """The whole factor that brings the longer side to at most WORKING_SIDE."""
    return max(1, -(-max(size) // WORKING_SIDE))


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip().lower()
    return head.startswith(b"<?xml") or b"<svg" in head


def _trim_transparent_margins(image: Image.Image) -> Image.Image:
    box = image.getchannel("A").getbbox()
    if box is None:
        raise ImageRejected("The image is completely transparent.")
    return image.crop(box)


def _png(image: Image.Image) -> bytes:
    """Re-encode: only pixels survive (no metadata, no embedded profiles or payloads)."""
    output = BytesIO()
    image.save(output, format="PNG", optimize=True)
    return output.getvalue()

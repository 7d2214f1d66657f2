"""Branding uploads: accepted by content only, re-encoded and resized; everything else refused with a reason."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from app.images import ICON_SIZE, LOGO_MAX_HEIGHT, ImageRejected, process_icon, process_logo


def encode(image: Image.Image, image_format: str, **options: object) -> bytes:
    output = BytesIO()
    image.save(output, format=image_format, **options)
    return output.getvalue()


def decode(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP"])
def test_each_accepted_format_becomes_a_128_pixel_png_icon(image_format: str) -> None:
    source = Image.new("RGB", (300, 300), "#635bff")
    icon = decode(process_icon(encode(source, image_format)))
    assert icon.format == "PNG"
    assert icon.size == (ICON_SIZE, ICON_SIZE)


def test_a_wide_icon_is_padded_not_cut_off() -> None:
    icon = decode(process_icon(encode(Image.new("RGB", (400, 100), "red"), "PNG")))
    assert icon.size == (ICON_SIZE, ICON_SIZE)
    assert icon.getpixel((64, 2))[3] == 0  # transparent padding above the mark
    assert icon.getpixel((0, 64))[:3] == (255, 0, 0)  # the full width is kept


def test_a_nearly_square_icon_is_cropped_to_fill() -> None:
    icon = decode(process_icon(encode(Image.new("RGB", (110, 100), "red"), "PNG")))
    assert icon.getpixel((64, 0)) == (255, 0, 0, 255)


def test_transparent_margins_are_trimmed_before_sizing() -> None:
    source = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    source.paste(Image.new("RGBA", (100, 100), "blue"), (150, 150))
    icon = decode(process_icon(encode(source, "PNG")))
    assert icon.getpixel((2, 2)) == (0, 0, 255, 255)


def test_a_logo_is_scaled_down_to_80_pixels_high_keeping_its_shape() -> None:
    logo = decode(process_logo(encode(Image.new("RGB", (800, 200), "green"), "PNG")))
    assert logo.size == (320, LOGO_MAX_HEIGHT)


def test_a_small_logo_is_not_enlarged() -> None:
    logo = decode(process_logo(encode(Image.new("RGB", (120, 40), "green"), "JPEG")))
    assert logo.size == (120, 40)


def test_metadata_does_not_survive_re_encoding() -> None:
    info = PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    data = encode(Image.new("RGB", (50, 50), "red"), "PNG", pnginfo=info)
    assert b"<script>" in data
    assert b"<script>" not in process_logo(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"just some text, not an image\n", "This file is not a PNG, JPEG or WebP image."),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
            "SVG images are not supported. Upload a PNG, JPEG or WebP image.",
        ),
        (b'  <svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', "SVG images are not supported."),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "This file is not a PNG, JPEG or WebP image."),
        (b"x" * (2 * 1024 * 1024 + 1), "The file is larger than 2 MB."),
    ],
)
def test_refused_uploads_say_why(data: bytes, message: str) -> None:
    with pytest.raises(ImageRejected, match=re.escape(message)):
        process_icon(data)


def test_a_gif_is_refused_even_though_pillow_can_read_it() -> None:
    with pytest.raises(ImageRejected, match="not a PNG, JPEG or WebP"):
        process_logo(encode(Image.new("RGB", (20, 20), "red"), "GIF"))


def test_a_truncated_png_is_refused_as_damaged() -> None:
    data = encode(Image.effect_noise((200, 200), 50).convert("RGB"), "PNG")
    with pytest.raises(ImageRejected, match="damaged or incomplete"):
        process_icon(data[: len(data) // 2])


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = encode(Image.new("1", (12_000, 12_000)), "PNG")  # a few KB on disk, 144 million pixels
    assert len(bomb) < 2 * 1024 * 1024
    with pytest.raises(ImageRejected, match="too many pixels"):
        process_icon(bomb)


def test_an_animated_image_is_refused() -> None:
    frames = [Image.new("RGB", (20, 20), color) for color in ("red", "blue")]
    animated = encode(frames[0], "PNG", save_all=True, append_images=frames[1:])
    with pytest.raises(ImageRejected, match="Animated images are not supported"):
        process_icon(animated)


def test_a_fully_transparent_image_is_refused() -> None:
    with pytest.raises(ImageRejected, match="completely transparent"):
        process_icon(encode(Image.new("RGBA", (50, 50), (0, 0, 0, 0)), "PNG"))

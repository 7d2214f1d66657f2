"""Branding images that cost far more to process than their size suggests are refused, or cut down cheaply first."""

from __future__ import annotations

import time
from io import BytesIO

import pytest
from PIL import Image

from app.images import MAX_SIDE, TOO_LONG_A_SIDE, ImageRejected, process_icon, process_logo


def png(image: Image.Image, image_format: str = "PNG") -> bytes:
    output = BytesIO()
    image.save(output, format=image_format)
    return output.getvalue()


@pytest.mark.parametrize("size", [(1, 20_000_000), (20_000_000, 1), (MAX_SIDE + 1, 10)])
@pytest.mark.parametrize("process", [process_icon, process_logo])
def test_an_image_with_an_extreme_side_is_refused_before_decoding(size: tuple[int, int], process: object) -> None:
    """1 × 20,000,000 px is a 39 KB PNG under the 25-megapixel limit that took 10 s and 1.3 GB to resize."""
    data = png(Image.new("L", size, 128))
    started = time.thread_time()
    with pytest.raises(ImageRejected) as refused:
        process(data)  # type: ignore[operator]
    assert str(refused.value) == TOO_LONG_A_SIDE
    assert time.thread_time() - started < 0.5


@pytest.mark.parametrize("process", [process_icon, process_logo])
def test_a_large_photo_is_decoded_at_a_fraction_of_its_size(process: object) -> None:
    """An 8000 × 3000 JPEG (within every limit) is decoded at a quarter scale, not resized from 24 megapixels."""
    data = png(Image.linear_gradient("L").resize((8000, 3000)).convert("RGB"), "JPEG")
    started = time.thread_time()
    result = Image.open(BytesIO(process(data)))  # type: ignore[operator]
    assert time.thread_time() - started < 0.25  # 0.03 s; 0.5 s when every pixel was decoded and filtered
    assert result.format == "PNG"

"""Small real media files for tests, made by the real encoders (Pillow, PyAV's libx264)."""

from __future__ import annotations

import io


def png_bytes(width: int = 64, height: int = 48, color: tuple[int, int, int] = (10, 200, 30)) -> bytes:
    """A PNG of one colour."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def mp4_bytes(seconds: float = 1.0, size: tuple[int, int] = (160, 96), fps: int = 12) -> bytes:
    """An H.264 MP4 of `seconds` whose frames change colour over time."""
    import av
    from PIL import Image

    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for index in range(int(seconds * fps)):
            frame = av.VideoFrame.from_image(Image.new("RGB", size, (20, 60, index * 20 % 256)))
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()

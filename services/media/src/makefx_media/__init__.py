"""The media service: owns the object-storage bucket: ingest, probe, thumbnails, posters, signed URLs."""

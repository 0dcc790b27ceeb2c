"""The generation service: consumes generation jobs, calls providers, stores media and reports back."""

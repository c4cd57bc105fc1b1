"""Code shared by every function: settings, errors, the Daily client and the API key lookup."""

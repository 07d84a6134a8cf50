"""Python SDK: a typed client over the REST API, local or in-process."""
